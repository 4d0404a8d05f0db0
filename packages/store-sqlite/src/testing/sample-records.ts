import { createChainBuilder, emptyHead, type LedgerRecord, type LogHead } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';

/** Test-only: a valid synthetic event (never real PHI), deterministic in `i`. */
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
    resource: { type: 'Encounter', id: `enc-${i}` },
    outcome: 'success',
    ...overrides,
  };
}

/**
 * Test-only: `count` records continuing `head`, source offsets `firstOffset`, +1, … (embedded
 * mode's global sequence), built by the real chain builder.
 */
export function sampleRecords(
  head: LogHead | string,
  count: number,
  firstOffset: number,
  event: (i: number) => AccessEvent = (i) => sampleEvent(i),
): LedgerRecord[] {
  const start = typeof head === 'string' ? emptyHead(head) : head;
  const builder = createChainBuilder(start);
  return Array.from({ length: count }, (_, k) =>
    builder.append({ sourceOffset: firstOffset + k, event: event(start.size + k) }),
  );
}
