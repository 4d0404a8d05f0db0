import { randomBytes } from 'node:crypto';
import { createChainBuilder, emptyHead, type LedgerRecord, type LogHead, type StoredRecord } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';

/**
 * Test-only inputs for the store conformance suite: synthetic events (never real PHI),
 * records built by the real chain builder, and names unique per test so tests can share
 * one database (ClickHouse) or not (SQLite) without noticing.
 */

/** A valid event of tenant `tenant`, deterministic in `i`. */
export function conformanceEvent(i: number, tenant: string, overrides: Partial<AccessEvent> = {}): AccessEvent {
  return {
    eventId: `evt-${i}`,
    tenant,
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

/** A name no other test uses: `<label>-<random>` (valid as a tenant, too). */
export function uniqueName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/**
 * Source offsets are unique across the whole suite run: in embedded mode the source offset
 * is the global ingest sequence (the SQLite row key), so two logs never share one.
 */
let nextOffset = 1_000;
export function takeOffsets(count: number): number {
  const first = nextOffset;
  nextOffset += count + 10;
  return first;
}

/**
 * `count` records continuing `head` (default: a new log `origin`), event `i` from
 * `event(i)` where i continues from the head's size.
 */
export function buildRecords(
  origin: string,
  count: number,
  event: (i: number) => AccessEvent,
  head: LogHead = emptyHead(origin),
): LedgerRecord[] {
  const builder = createChainBuilder(head);
  const first = takeOffsets(count);
  return Array.from({ length: count }, (_, k) =>
    builder.append({ sourceOffset: first + k, event: event(head.size + k) }),
  );
}

export async function collect(records: AsyncIterable<StoredRecord>): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

/** Strings that break naive quoting or encoding, for round-trip checks. */
export const TRICKY = `'q' "dq" \\ {x:String} \u0000 \n\t 😀 é \u2028`;
