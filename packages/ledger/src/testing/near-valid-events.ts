/**
 * Test-only generators (not built): near-valid AccessEvents around every boundary the schema
 * draws, shared by the property tests of the verifier's fast event checks.
 */
import { MAX_ID_LENGTH } from '@phi-audit/schema';
import fc from 'fast-check';

/** Strings around every boundary the schema draws: empty, max length, too long, lone surrogates, odd tenants. */
export const str = fc.oneof(
  fc.constantFrom('', 'a', 'x'.repeat(MAX_ID_LENGTH), 'x'.repeat(MAX_ID_LENGTH + 1), '\uD800', 'a\uDC00b', 'é😀'),
  fc.constantFrom('clinic-a', 'Clinic', '-a', 'a'.repeat(63), 'a'.repeat(64), 'view', 'login', 'success'),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
export const num = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, Number.NaN, 1e21, 1_714_573_800_000),
  fc.integer(),
);
/** Any JSON-ish value a tampered eventJson could hold. */
export const anyValue = fc.oneof(str, num, fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}));
/** Mostly the field's own kind of value, sometimes anything: enough whole events stay valid for the property to bite. */
export const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
export const okStr = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constantFrom('a', 'é😀', 'x'.repeat(MAX_ID_LENGTH)),
);
export const okNum = fc.oneof(fc.integer({ min: 0 }), fc.constant(1_714_573_800_000));
export const maybe = (valid: fc.Arbitrary<unknown>) => fc.option(field(valid), { nil: undefined, freq: 3 });

/** Usually absent: a field the fast path always leaves to zod. */
export const rarely = (v: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: v });

export const nearValidEvent = fc
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
export function sortedDeep(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortedDeep(o[k])]),
  );
}
