import type { AccessEvent } from '@phi-audit/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChainBuilder } from './chain-builder.js';
import { emptyHead } from './chain.js';
import type { LedgerRecord, StoredRecord } from './types.js';
import { verifyLog } from './verify-log.js';

const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const event: fc.Arbitrary<AccessEvent> = fc.record(
  {
    eventId: id,
    tenant: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/),
    occurredAt: fc.nat(),
    receivedAt: fc.nat(),
    source: fc.record({ system: id, site: id }, { requiredKeys: ['system'] }),
    actor: fc.record(
      { userId: id, name: fc.string({ unit: 'grapheme', maxLength: 12 }), role: id },
      { requiredKeys: ['userId'] },
    ),
    patient: fc.record({ id }),
    action: fc.constantFrom('view', 'create', 'update', 'delete', 'print', 'export', 'query', 'login', 'break_glass'),
    resource: fc.record({ type: id, id }, { requiredKeys: ['type'] }),
    outcome: fc.constantFrom('success', 'failure'),
    reason: fc.string({ unit: 'grapheme', maxLength: 20 }),
    recordCount: fc.nat(),
  },
  {
    requiredKeys: [
      'eventId',
      'tenant',
      'occurredAt',
      'receivedAt',
      'source',
      'actor',
      'patient',
      'action',
      'resource',
      'outcome',
    ],
  },
);

/** A random clean log: random origin, random events, random strictly increasing offsets. */
const cleanLog = fc
  .tuple(
    id,
    fc.array(fc.tuple(event, fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 15 }),
    fc.nat(1000),
  )
  .map(([origin, entries, firstOffset]) => {
    const builder = createChainBuilder(emptyHead(origin));
    let offset = firstOffset;
    const records = entries.map(([e, step]) => builder.append({ sourceOffset: (offset += step), event: e }));
    return { origin, records, head: builder.head() };
  });

const FIELDS = [
  'origin',
  'index',
  'sourceOffset',
  'eventId',
  'tenant',
  'eventJson',
  'leafHash',
  'chain',
  'columnMismatch',
] as const;
type Field = (typeof FIELDS)[number];

/** A value for `field` guaranteed to differ from the record's, drawn from `seed` material. */
function mutate(r: LedgerRecord, field: Field, n: number, s: string): StoredRecord {
  const other = (v: string): string => (s === v || s === '' ? `${v}x` : s);
  switch (field) {
    case 'origin':
      return { ...r, origin: other(r.origin) };
    case 'index':
      return { ...r, index: n === r.index ? r.index + 1 : n };
    case 'sourceOffset':
      return { ...r, sourceOffset: n === r.sourceOffset ? r.sourceOffset + 1 : n };
    case 'eventId':
      return { ...r, eventId: other(r.eventId) };
    case 'tenant':
      return { ...r, tenant: other(r.tenant) };
    case 'eventJson': {
      // Either a small edit of the text or a whole different valid-looking event.
      const edited = r.eventJson.replace(/"patient":\{"id":"/, `"patient":{"id":"${s || 'x'}`);
      return { ...r, eventJson: n % 2 === 0 && edited !== r.eventJson ? edited : other(r.eventJson) };
    }
    case 'leafHash':
    case 'chain': {
      const hex = r[field];
      const pos = n % 64;
      const flipped = hex.slice(0, pos) + (hex[pos] === '0' ? '1' : '0') + hex.slice(pos + 1);
      return { ...r, [field]: flipped };
    }
    case 'columnMismatch':
      return { ...r, columnMismatch: s || 'patient_id' };
    default:
      return field satisfies never;
  }
}

describe('verifyLog properties', () => {
  it('random clean logs verify, and the verified head is the builder head', async () => {
    await fc.assert(
      fc.asyncProperty(cleanLog, async ({ origin, records, head }) => {
        const v = await verifyLog({ origin, records });
        expect(v).toEqual({ origin, records: records.length, ok: true, head });
      }),
      { numRuns: 200 },
    );
  });

  it('any single-field change of any record is detected at that index or earlier, never later', async () => {
    await fc.assert(
      fc.asyncProperty(
        cleanLog,
        fc.nat(),
        fc.constantFrom(...FIELDS),
        fc.integer({ min: -1, max: 40 }),
        fc.string({ maxLength: 6 }),
        async ({ origin, records }, pick, field, n, s) => {
          const i = pick % records.length;
          const tampered: StoredRecord[] = records.map((r, k) => (k === i ? mutate(r, field, n, s) : r));
          const v = await verifyLog({ origin, records: tampered });
          expect(v.ok).toBe(false);
          expect(v.failure?.index).toBeLessThanOrEqual(i);
          expect(v.head.size).toBeLessThanOrEqual(i);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('deleting or duplicating any record is detected at that index', async () => {
    await fc.assert(
      fc.asyncProperty(cleanLog, fc.nat(), fc.boolean(), async ({ origin, records }, pick, duplicate) => {
        const i = pick % records.length;
        const rec = records[i] as LedgerRecord;
        const tampered = duplicate
          ? [...records.slice(0, i + 1), rec, ...records.slice(i + 1)]
          : records.filter((_, k) => k !== i);
        const v = await verifyLog({ origin, records: tampered });
        if (!duplicate && i === records.length - 1) {
          // Tail truncation is invisible to the chain alone; signed checkpoints catch it.
          expect(v.ok).toBe(true);
          return;
        }
        expect(v.failure).toMatchObject({ index: i, kind: duplicate ? 'index_duplicate' : 'index_gap' });
      }),
      { numRuns: 300 },
    );
  });
});
