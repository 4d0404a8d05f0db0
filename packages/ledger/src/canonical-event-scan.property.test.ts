import { AccessEventSchema, MAX_ID_LENGTH, type AccessEvent } from '@phi-audit/schema';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEventColumns } from './canonical-event-scan.js';
import { canonicalJson } from './canonical-json.js';
import { isSortedValidAccessEventFast } from './fast-event-check.js';
import { deriveRecordColumns } from './record-columns.js';
import { sampleEvent } from './sample-event.js';
import { nearValidEvent, okNum, okStr } from './testing/near-valid-events.js';

/** RFC 8785 text of `v`, or undefined where canonicalize refuses (lone surrogates, NaN, …). */
function canonicalText(v: unknown): string | undefined {
  try {
    return canonicalize(v);
  } catch {
    return undefined;
  }
}

/** Small edits a tampered eventJson could carry, each keeping it JSON of (nearly) the same value. */
const edits = fc.constantFrom(
  (t: string) => t.replace(':', ': '),
  (t: string) => `${t} `,
  (t: string) => ` ${t}`,
  (t: string) => t.replace(/,"/, ',\n"'),
  (t: string) => t.replace(/:(\d+)/, ':$1.0'),
  (t: string) => t.replace(/:(\d+)/, ':$1e0'),
  (t: string) => t.replace(/:(\d+)/, ':0$1'),
  (t: string) => t.replace(/:(\d+)/, ':-$1'),
  (t: string) => t.replace(/:0([,}])/, ':-0$1'),
  (t: string) => t.replace('a', '\\u0061'),
  (t: string) => t.replace('e', '\\u0065'),
  (t: string) => t.replace(/"([a-z]+)":"/, '"$1":"x","$1":"'),
  (t: string) => t.replace(/\{"([a-z]+)":([^,{}]+),/, '{"$1":$2,"$1":$2,'),
  (t: string) => t.replace(/"[a-z]+":[^,{}]+,/, ''),
  (t: string) => `${t.slice(0, -1)},"zz":1}`,
  (t: string) => t.slice(0, -1),
  (t: string) => `${t}}`,
  (t: string) => t.replace('"', "'"),
);
/** Mostly unedited, so that enough texts are recognised for the property to bite. */
const edit = fc.oneof({ weight: 4, arbitrary: fc.constant((t: string) => t) }, { weight: 3, arbitrary: edits });

/** Valid events with free-form text in the optional fields (quotes, escapes, non-ASCII, boundaries included). */
const validEvent = fc
  .record({
    i: fc.nat(10_000),
    reason: fc.option(fc.oneof(okStr, fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 6 })), {
      nil: undefined,
    }),
    recordCount: fc.option(okNum, { nil: undefined }),
    name: fc.option(fc.oneof(okStr, fc.constant('')), { nil: undefined }),
    login: fc.boolean(),
  })
  .map(({ i, reason, recordCount, name, login }) => {
    const base = sampleEvent(i, login ? { action: 'login' } : {}) as Record<string, unknown>;
    const event: Record<string, unknown> = JSON.parse(JSON.stringify({ ...base, reason, recordCount }));
    if (name !== undefined) event.actor = { ...(event.actor as object), name };
    return event;
  });

describe('canonicalEventColumns', () => {
  it('only recognises the canonical JSON of a valid event, and yields exactly its derived columns', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(nearValidEvent, validEvent), fc.boolean(), edit, (event, canonical, change) => {
        const base = canonical ? canonicalText(event) : JSON.stringify(event);
        if (base === undefined) return;
        const text = change(base);
        const columns = canonicalEventColumns(text);
        if (columns === undefined) return;
        accepted += 1;
        // Everything the verifier's JSON.parse path would check, and the same columns the stores derive.
        const parsed: unknown = JSON.parse(text);
        expect(isSortedValidAccessEventFast(parsed)).toBe(true);
        const zod = AccessEventSchema.safeParse(parsed);
        expect(zod.success).toBe(true);
        expect(canonicalize(parsed)).toBe(text);
        expect(JSON.stringify(parsed)).toBe(text);
        if (zod.success) expect(columns).toEqual(deriveRecordColumns(zod.data));
      }),
      { numRuns: 5_000 },
    );
    expect(accepted).toBeGreaterThan(500);
  });

  it('recognises valid canonical events (so the verifier does not fall back to JSON.parse)', () => {
    for (let i = 0; i < 50; i++) {
      const text = canonicalJson(sampleEvent(i, i % 2 === 0 ? { reason: 'on call', recordCount: i } : {}));
      expect(canonicalEventColumns(text)).toEqual(deriveRecordColumns(JSON.parse(text) as AccessEvent));
    }
    const { patient: _none, ...login } = sampleEvent(1, { action: 'login' });
    expect(canonicalEventColumns(canonicalJson(login))?.patient_id).toBe('');
  });

  it('leaves everything else to the full path', () => {
    const text = canonicalJson(sampleEvent(3));
    const base = JSON.parse(text) as Record<string, unknown>;
    const { patient: _none, ...noPatient } = base;
    for (const other of [
      canonicalJson(noPatient),
      canonicalJson({ ...base, tenant: 'Clinic-A' }),
      canonicalJson({ ...base, actor: { userId: 'u', ip: '10.0.0.1' } }),
      canonicalJson({ ...base, reason: 'said "hi"' }),
      canonicalJson({ ...base, reason: 'line\nbreak' }),
      canonicalJson({ ...base, extra: 1 }),
      canonicalJson({ ...base, recordCount: 2 ** 53 }),
      canonicalJson({ ...base, eventId: 'x'.repeat(MAX_ID_LENGTH + 1) }),
      JSON.stringify({ outcome: 'success', ...base }),
      text.replace('{', '{ '),
      text.replace('"eventId":"', '"eventId":"\uD800'),
      `${text}\n`,
      '',
      'null',
      '{}',
    ]) {
      expect(canonicalEventColumns(other)).toBeUndefined();
    }
  });
});
