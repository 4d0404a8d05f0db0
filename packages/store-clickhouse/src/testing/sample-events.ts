import { createChainBuilder, emptyHead, type LedgerRecord } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';

/** Test-only: a valid event with a deterministic shape, varied by `i`. */
export function sampleEvent(i: number, overrides: Partial<AccessEvent> = {}): AccessEvent {
  return {
    eventId: `evt-${i}`,
    tenant: 'clinic-a',
    occurredAt: 1_714_573_800_000 + i * 1000,
    receivedAt: 1_714_573_900_000 + i * 1000,
    source: { system: 'ehr' },
    actor: { userId: `user-${i % 3}`, role: 'nurse' },
    patient: { id: `patient-${i % 5}` },
    action: 'view',
    resource: { type: 'Encounter' },
    outcome: 'success',
    ...overrides,
  };
}

/** Test-only: `count` chained records of log `origin`, built by the real ledger chain builder. */
export function sampleRecords(
  origin: string,
  count: number,
  event: (i: number) => AccessEvent = (i) => sampleEvent(i),
): LedgerRecord[] {
  const builder = createChainBuilder(emptyHead(origin));
  return Array.from({ length: count }, (_, i) => builder.append({ sourceOffset: 100 + i, event: event(i) }));
}
