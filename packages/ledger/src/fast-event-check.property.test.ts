import { AccessEventSchema, MAX_ID_LENGTH } from '@phi-audit/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { isCanonicalJsonText } from './canonical-check.js';
import { isSortedValidAccessEventFast } from './fast-event-check.js';
import { sampleEvent } from './sample-event.js';

/** Strings around every boundary the schema draws: empty, max length, too long, lone surrogates, odd tenants. */
const str = fc.oneof(
  fc.constantFrom('', 'a', 'x'.repeat(MAX_ID_LENGTH), 'x'.repeat(MAX_ID_LENGTH + 1), '\uD800', 'a\uDC00b', 'é😀'),
  fc.constantFrom('clinic-a', 'Clinic', '-a', 'a'.repeat(63), 'a'.repeat(64), 'view', 'login', 'success'),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const num = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, Number.NaN, 1e21, 1_714_573_800_000),
  fc.integer(),
);
/** Any JSON-ish value a tampered eventJson could hold. */
const anyValue = fc.oneof(str, num, fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}));
/** Mostly the field's own kind of value, sometimes anything: enough whole events stay valid for the property to bite. */
const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const okStr = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constantFrom('a', 'é😀', 'x'.repeat(MAX_ID_LENGTH)),
);
const okNum = fc.oneof(fc.integer({ min: 0 }), fc.constant(1_714_573_800_000));
const maybe = (valid: fc.Arbitrary<unknown>) => fc.option(field(valid), { nil: undefined, freq: 3 });

/** Usually absent: a field the fast path always leaves to zod. */
const rarely = (v: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: v });

const nearValidEvent = fc
  .record({
    eventId: field(fc.oneof(okStr, str)),
    tenant: field(fc.constantFrom('clinic-a', 'b_2', '0', 'A', '', 'a'.repeat(63), 'a'.repeat(64))),
    occurredAt: field(okNum),
    receivedAt: field(okNum),
    source: field(fc.record({ system: field(okStr), site: maybe(okStr) }, { requiredKeys: [] })),
    actor: field(
      fc.record(
        {
          userId: field(okStr),
          name: maybe(fc.oneof(okStr, fc.constant(''))),
          role: maybe(okStr),
          department: maybe(okStr),
          workstation: maybe(okStr),
          ip: rarely(fc.constantFrom('10.0.0.1', '::1', 'not-an-ip')),
        },
        { requiredKeys: [] },
      ),
    ),
    patient: maybe(fc.record({ id: field(okStr) }, { requiredKeys: [] })),
    action: field(fc.constantFrom('view', 'login', 'break_glass', 'VIEW', 'peek')),
    resource: field(fc.record({ type: field(okStr), id: maybe(okStr) }, { requiredKeys: [] })),
    outcome: field(fc.constantFrom('success', 'failure', 'maybe')),
    purposeOfUse: maybe(okStr),
    reason: maybe(fc.oneof(okStr, fc.constant(''), fc.constant('r'.repeat(2001)))),
    recordCount: maybe(fc.oneof(okNum, num)),
    extra: rarely(str),
  })
  .map((o) => {
    // Drop absent optionals, as stored JSON would not hold them.
    return JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
  });

/** The same value with every object's keys in code-unit order (what JSON.parse of canonical text yields). */
function sortedDeep(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortedDeep(o[k])]),
  );
}

describe('isSortedValidAccessEventFast', () => {
  it('never accepts what AccessEventSchema rejects, and implies the canonical-form shortcut is exact', () => {
    let accepted = 0;
    fc.assert(
      fc.property(nearValidEvent, fc.boolean(), (event, sortKeys) => {
        // Half the cases in canonical key order (as JSON.parse of stored eventJson yields), half as generated.
        const value: unknown = sortKeys ? sortedDeep(event) : event;
        if (!isSortedValidAccessEventFast(value)) return;
        accepted += 1;
        expect(AccessEventSchema.safeParse(value).success).toBe(true);
        const text = JSON.stringify(value);
        expect(isCanonicalJsonText(text, value)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
    // The implication is only worth something when the fast path accepts a fair share.
    expect(accepted).toBeGreaterThan(5);
  });

  it('takes the fast path for valid canonical events (so the verifier does not fall back to zod)', () => {
    for (let i = 0; i < 50; i++) {
      const event = JSON.parse(canonicalJson(sampleEvent(i, i % 2 === 0 ? { reason: 'on call', recordCount: i } : {})));
      expect(isSortedValidAccessEventFast(event)).toBe(true);
    }
    const { patient: _none, ...login } = sampleEvent(1, { action: 'login' });
    expect(isSortedValidAccessEventFast(JSON.parse(canonicalJson(login)))).toBe(true);
  });

  it('falls back for anything it does not decide itself', () => {
    const base = JSON.parse(canonicalJson(sampleEvent(3))) as Record<string, unknown>;
    const { patient: _none, ...noPatient } = base;
    for (const value of [
      noPatient,
      { ...base, tenant: 'Clinic-A' },
      { ...base, occurredAt: 1.5 },
      { ...base, actor: { userId: 'u', ip: '10.0.0.1' } },
      { ...base, extra: 1 },
      { ...base, eventId: 'a\uD800' },
      { outcome: 'success', ...base },
      JSON.parse(`{"__proto__":1,${canonicalJson(base).slice(1)}`),
      null,
      [],
    ]) {
      expect(isSortedValidAccessEventFast(value)).toBe(false);
    }
  });
});
