import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertId, AlertSchema, MAX_EVIDENCE, mergeAlert, SEVERITIES, type Alert, type Evidence } from './alert.js';

const key = { tenant: 'clinic-a', ruleId: 'self-access', userId: 'u1', patientId: 'p1', day: '2026-03-08' };

function alert(evidence: Evidence[], over: Partial<Alert> = {}): Alert {
  const times = evidence.map((e) => e.occurredAt);
  return {
    alertId: alertId(key),
    tenant: key.tenant,
    ruleId: key.ruleId,
    userId: key.userId,
    patientId: key.patientId,
    day: key.day,
    severity: 'medium',
    riskScore: 50,
    explanation: 'x',
    evidence,
    truncated: false,
    firstEventAt: Math.min(...times),
    lastEventAt: Math.max(...times),
    ...over,
  };
}
const ev = (eventId: string, occurredAt: number, source = 'epic'): Evidence => ({ source, eventId, occurredAt });

describe('alertId', () => {
  it('is 64 hex digits and the same for the same key', () => {
    expect(alertId(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(alertId({ ...key })).toBe(alertId(key));
  });

  it('differs when any key field differs, including a field boundary shifted between fields', () => {
    const ids = new Set([
      alertId(key),
      alertId({ ...key, tenant: 'clinic-b' }),
      alertId({ ...key, ruleId: 'bulk-read' }),
      alertId({ ...key, userId: 'u2' }),
      alertId({ ...key, patientId: 'p2' }),
      alertId({ ...key, patientId: undefined }),
      alertId({ ...key, day: '2026-03-09' }),
      alertId({ ...key, userId: 'u1p', patientId: '1' }),
      alertId({ ...key, userId: 'u', patientId: '1p1' }),
    ]);
    expect(ids.size).toBe(9);
  });

  it('treats an absent patient as the user-level alert of that day', () => {
    const { patientId: _, ...userLevel } = key;
    expect(alertId(userLevel)).toBe(alertId({ ...key, patientId: undefined }));
  });
});

describe('mergeAlert', () => {
  it('unions evidence in event-time order, dedupes by (source, eventId), keeps max risk and time range', () => {
    const a = alert([ev('e2', 200), ev('e1', 100)].sort((x, y) => x.occurredAt - y.occurredAt));
    const b = alert([ev('e0', 50), ev('e2', 200), ev('e2', 200, 'cerner')], {
      riskScore: 80,
      severity: 'high',
      explanation: 'riskier',
    });
    const m = mergeAlert(a, b);
    expect(m.evidence.map((e) => `${e.source}:${e.eventId}`)).toEqual(['epic:e0', 'epic:e1', 'cerner:e2', 'epic:e2']);
    expect(m).toMatchObject({
      riskScore: 80,
      severity: 'high',
      explanation: 'riskier',
      firstEventAt: 50,
      lastEventAt: 200,
    });
    expect(AlertSchema.safeParse(m).success).toBe(true);
  });

  it('keeps the earliest MAX_EVIDENCE events and marks the alert truncated', () => {
    let m = alert([ev('e0', 0)]);
    for (let i = MAX_EVIDENCE + 20; i >= 1; i--) m = mergeAlert(m, alert([ev(`e${i}`, i)]));
    expect(m.evidence).toHaveLength(MAX_EVIDENCE);
    expect(m.evidence[0]!.eventId).toBe('e0');
    expect(m.evidence.at(-1)!.eventId).toBe(`e${MAX_EVIDENCE - 1}`);
    expect(m.truncated).toBe(true);
    expect(m.lastEventAt).toBe(MAX_EVIDENCE + 20);
  });

  it('refuses alerts with different ids', () => {
    expect(() => mergeAlert(alert([ev('e', 1)]), alert([ev('e', 1)], { alertId: 'f'.repeat(64) }))).toThrow(
      /different ids/,
    );
  });

  it('is commutative, associative and idempotent, so replays and upserts converge', () => {
    const arbAlert = fc
      .record({
        evidence: fc.array(
          fc.record({
            source: fc.constantFrom('a', 'b'),
            eventId: fc.constantFrom('1', '2', '3', '4'),
            occurredAt: fc.nat(5),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        riskScore: fc.integer({ min: 0, max: 100 }),
        severity: fc.constantFrom(...SEVERITIES),
        explanation: fc.constantFrom('x', 'y', 'z'),
      })
      .map(({ evidence, ...rest }) => mergeAlert(alert([evidence[0]!]), alert(evidence, rest)));
    fc.assert(
      fc.property(arbAlert, arbAlert, arbAlert, (a, b, c) => {
        expect(mergeAlert(a, b)).toEqual(mergeAlert(b, a));
        expect(mergeAlert(mergeAlert(a, b), c)).toEqual(mergeAlert(a, mergeAlert(b, c)));
        expect(mergeAlert(a, a)).toEqual(a);
      }),
    );
  });
});
