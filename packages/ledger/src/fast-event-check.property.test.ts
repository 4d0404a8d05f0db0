import { AccessEventSchema } from '@phi-audit/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { isCanonicalJsonText } from './canonical-check.js';
import { isSortedValidAccessEventFast } from './fast-event-check.js';
import { sampleEvent } from './sample-event.js';
import { nearValidEvent, sortedDeep } from './testing/near-valid-events.js';

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
