import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessEventSchema } from './access-event.js';
import { parseIngestEvent, type IngestContext } from './ingest-event.js';

const RECEIVED = Date.UTC(2024, 4, 1, 12);

/** Mostly-valid posted events, with invalid values mixed in so every branch is reached. */
const rare = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: valid, weight: 30 }, { arbitrary: invalid, weight: 1 });
const str = rare(
  fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('ok', '"q\\"', 'a\u0000b', '\ud83d\ude00')),
  fc.constantFrom('', 'x'.repeat(257), '\ud800'),
);
const posted = fc.record(
  {
    eventId: str,
    tenant: rare(fc.constant('clinic-a'), fc.constantFrom('clinic-b', 'BAD')),
    occurredAt: fc.oneof(
      fc.integer({ min: RECEIVED - 40 * 86_400_000, max: RECEIVED + 600_000 }),
      fc.integer({ min: RECEIVED - 40 * 86_400_000, max: RECEIVED + 600_000 }).map((ms) => new Date(ms).toISOString()),
      fc.constantFrom(
        '1960-01-01T00:00:00Z',
        '2024-02-30T00:00:00Z',
        -5,
        1.5,
        '2024-05-01T12:00:00',
        '2024-04-30T12:00:00+02:00',
      ),
    ),
    source: fc.record({ system: rare(fc.constant('ehr-test'), fc.constant('other')), site: str }, { requiredKeys: [] }),
    actor: fc.record(
      {
        userId: str,
        name: fc.string({ maxLength: 300 }),
        role: str,
        department: str,
        workstation: str,
        ip: rare(fc.oneof(fc.ipV4(), fc.ipV6()), fc.constant('not-an-ip')),
      },
      { requiredKeys: ['userId'] },
    ),
    patient: fc.record({ id: str }),
    action: rare(fc.constantFrom('view', 'create', 'export', 'query', 'break_glass', 'login'), fc.constant('peek')),
    resource: fc.record({ type: str, id: str }, { requiredKeys: ['type'] }),
    outcome: rare(fc.constantFrom('success', 'failure'), fc.constant('maybe')),
    purposeOfUse: str,
    reason: fc.string({ maxLength: 30 }),
    recordCount: rare(fc.nat(), fc.constantFrom(-1, 2.5, 2 ** 53)),
  },
  {
    requiredKeys: ['eventId', 'occurredAt', 'actor', 'patient', 'action', 'resource', 'outcome'],
  },
);
/** Logins without a patient (valid), and now and then another action without one (invalid). */
const postedEvent = fc.oneof(
  { arbitrary: posted, weight: 6 },
  { arbitrary: posted.map(({ patient: _p, ...e }) => ({ ...e, action: 'login' })), weight: 3 },
  { arbitrary: posted.map(({ patient: _p, ...e }) => e), weight: 1 },
);
const context = fc.record({
  tenant: fc.constantFrom('clinic-a', 'clinic-a', 'Not A Tenant'),
  sourceSystem: fc.constantFrom('ehr-test', 'ehr-test', ''),
  receivedAt: fc.constantFrom(RECEIVED, RECEIVED, -1),
  maxPastMs: fc.constantFrom(30 * 86_400_000, 1e15),
  maxFutureMs: fc.constant(300_000),
  frozen: fc.boolean(),
});

describe('parseIngestEvent without the second full schema pass', () => {
  it('accepts only what AccessEventSchema accepts, returning exactly what it would return', () => {
    let accepted = 0;
    let withoutPatient = 0;
    fc.assert(
      fc.property(postedEvent, context, ({ ...input }, { frozen, ...c }) => {
        const ctx: IngestContext = frozen ? Object.freeze(c) : c;
        const result = parseIngestEvent(input, ctx);
        if (!result.ok) return;
        accepted += 1;
        if (!('patient' in result.event)) withoutPatient += 1;
        // The removed step: re-validating the assembled event. It must succeed and change nothing,
        // key order included (the event is serialised as it is).
        const again = AccessEventSchema.safeParse(result.event);
        expect(again.success).toBe(true);
        expect(JSON.stringify(result.event)).toBe(JSON.stringify(again.data));
        expect(result.event.tenant).toBe(ctx.tenant);
        expect(result.event.receivedAt).toBe(ctx.receivedAt);
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(withoutPatient).toBeGreaterThan(10);
  });

  it('still rejects an assembled event the context makes invalid, with the schema message', () => {
    const event = {
      eventId: 'e1',
      occurredAt: RECEIVED,
      actor: { userId: 'u1' },
      patient: { id: 'p1' },
      action: 'view',
      resource: { type: 'Patient' },
      outcome: 'success',
    };
    const base = {
      tenant: 'clinic-a',
      sourceSystem: 'ehr-test',
      receivedAt: RECEIVED,
      maxPastMs: 1e15,
      maxFutureMs: 0,
    };
    for (const ctx of [
      Object.freeze({ ...base, tenant: 'Clinic A' }),
      Object.freeze({ ...base, sourceSystem: '' }),
      Object.freeze({ ...base, receivedAt: 1.5 }),
    ]) {
      const result = parseIngestEvent(event, ctx);
      expect(result.ok).toBe(false);
    }
    const old = parseIngestEvent({ ...event, occurredAt: '1960-01-01T00:00:00Z' }, Object.freeze(base));
    expect(old).toMatchObject({ ok: false, issues: [{ path: 'occurredAt', kind: 'invalid' }] });
  });
});
