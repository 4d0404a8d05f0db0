import { createChainBuilder, emptyHead } from '@phi-audit/ledger';
import { safeParseSealedAccessEvent, type AccessEvent } from '@phi-audit/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateTimeText, rowBytesUpperBound, rowFromRecord } from './access-log-row.js';

const DATETIME_END_MS = 2 ** 32 * 1000;

const event = fc.record(
  {
    eventId: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.isWellFormed()),
    tenant: fc.constantFrom('clinic-a', 'hospital-c'),
    occurredAt: fc.integer({ min: 0, max: DATETIME_END_MS - 1 }),
    receivedAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    source: fc.record(
      { system: fc.constantFrom('ehr', 'lab'), site: fc.constant('main') },
      { requiredKeys: ['system'] },
    ),
    actor: fc.record(
      {
        userId: fc.string({ minLength: 1, maxLength: 8 }),
        role: fc.constant('nurse'),
        workstation: fc.constant('ws-1'),
      },
      { requiredKeys: ['userId'] },
    ),
    patient: fc.record({
      id: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => s.isWellFormed()),
    }),
    action: fc.constantFrom('view', 'query'),
    resource: fc.record({ type: fc.constant('Patient') }),
    outcome: fc.constantFrom('success', 'failure'),
    reason: fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => s.isWellFormed()),
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
) as fc.Arbitrary<AccessEvent>;

describe('access_log rows built without re-parsing event_json', () => {
  it('dateTimeText equals the toISOString form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: DATETIME_END_MS - 1 }), (ms) => {
        expect(dateTimeText(ms)).toBe(
          new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' '),
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it('a record of a sealed event gives the same row as one whose event_json is parsed', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 6 }), (events) => {
        const fast = createChainBuilder(emptyHead('phi-audit/t/1'));
        const slow = createChainBuilder(emptyHead('phi-audit/t/1'));
        events.forEach((e, i) => {
          const parsed = safeParseSealedAccessEvent(JSON.parse(JSON.stringify(e)));
          if (!parsed.success) throw new Error('generator produced an invalid event');
          const row = rowFromRecord(fast.append({ sourceOffset: i, event: parsed.data }));
          expect(row).toEqual(rowFromRecord(slow.append({ sourceOffset: i, event: e })));
          expect(rowBytesUpperBound(row)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(row)) + 1);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('still rejects a sealed record whose tenant column was changed', () => {
    const parsed = safeParseSealedAccessEvent({
      eventId: 'e1',
      tenant: 'clinic-a',
      occurredAt: 1,
      receivedAt: 2,
      source: { system: 'ehr' },
      actor: { userId: 'u1' },
      patient: { id: 'p1' },
      action: 'view',
      resource: { type: 'Patient' },
      outcome: 'success',
    });
    if (!parsed.success) throw new Error('invalid');
    const record = createChainBuilder(emptyHead('phi-audit/t/1')).append({ sourceOffset: 0, event: parsed.data });
    record.tenant = 'clinic-b';
    expect(() => rowFromRecord(record)).toThrow(/tenant differs/);
  });
});
