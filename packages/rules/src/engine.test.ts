import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { AlertSchema, type Alert } from './alert.js';
import { createDetector, NO_FINDINGS, type EnginePolicy, type Rule } from './engine.js';
import { bulkReadRule, type BulkReadPolicy } from './rules/bulk-read.js';
import { selfAccessRule, type SelfAccessPolicy, type SelfAccessReference } from './rules/self-access.js';

const MIN = 60_000;
type Policy = EnginePolicy & BulkReadPolicy & SelfAccessPolicy;
const policy: Policy = {
  timeZone: 'America/New_York',
  window: {
    windowMs: 60 * MIN,
    hops: 2,
    latenessMs: 10 * MIN,
    distinctCap: 6,
    dailyCap: 1000,
    pairWindowMs: 30 * MIN,
    pairCap: 100,
  },
  bulkRead: { enabled: true, maxDistinctPatients: 5 },
};
const reference: SelfAccessReference = {
  workforceUserIdOfPatient: (p) => (p === 'p-nurse' ? 'nurse' : undefined),
  displayNameOfUser: (u) => (u === 'nurse' ? 'Nurse Ada Lovelace' : undefined),
};
const T0 = Date.UTC(2026, 2, 2, 15, 0); // 10:00 in New York

let seq = 0;
function event(userId: string, patientId: string, occurredAt: number, tenant = 'clinic-a'): AccessEvent {
  seq++;
  return {
    eventId: `e${seq}`,
    tenant,
    occurredAt,
    receivedAt: occurredAt,
    source: { system: 'epic' },
    actor: { userId },
    patient: { id: patientId },
    action: 'view',
    resource: { type: 'chart' },
    outcome: 'success',
  };
}

const detector = (p: Policy = policy) =>
  createDetector<Policy, SelfAccessReference>({
    rules: [selfAccessRule, bulkReadRule],
    policyFor: () => p,
    referenceFor: () => reference,
  });

/** A day of traffic: a nurse opening her own chart three times, a bulk reader, and benign reads. */
function day(): AccessEvent[] {
  seq = 0;
  const events: AccessEvent[] = [];
  for (let i = 0; i < 3; i++) events.push(event('nurse', 'p-nurse', T0 + i * 3 * MIN));
  for (let i = 0; i < 20; i++) events.push(event('clerk', `p${i}`, T0 + i * MIN));
  for (let i = 0; i < 40; i++) events.push(event('doc', `p${i % 4}`, T0 + i * MIN));
  return events;
}

function run(events: AccessEvent[], d = detector()): Alert[] {
  const out: Alert[] = [];
  for (const e of events) out.push(...d.process(e));
  out.push(...d.flush());
  // The store's view: the latest state per alertId.
  return [...new Map(out.map((a) => [a.alertId, a])).values()].sort((a, b) => (a.alertId < b.alertId ? -1 : 1));
}

describe('createDetector', () => {
  it('raises one alert per rule, user, patient and day, merging repeat firings', () => {
    const d = detector();
    const raised = day().flatMap((e) => d.process(e));
    expect(raised.map((a) => a.ruleId).sort()).toEqual(['bulk-read', 'self-access']);
    const flushed = d.flush();
    const self = flushed.find((a) => a.ruleId === 'self-access')!;
    expect(self.evidence.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect(self).toMatchObject({ userId: 'nurse', patientId: 'p-nurse', day: '2026-03-02' });
    const bulk = flushed.find((a) => a.ruleId === 'bulk-read')!;
    expect(bulk.patientId).toBeUndefined();
    expect(bulk.evidence).toHaveLength(20 - 5);
    for (const a of flushed) expect(AlertSchema.safeParse(a).success).toBe(true);
    expect(d.flush()).toEqual([]);
  });

  it('replaying a day twice yields the same alerts, once', () => {
    const once = run(day());
    const d = detector();
    const twice = run([...day(), ...day()], d);
    expect(twice).toEqual(once);
    expect(once).toHaveLength(2);
  });

  it('is deterministic across detector instances', () => {
    expect(run(day())).toEqual(run(day()));
  });

  it('uses the local day in the tenant zone for the dedupe key', () => {
    const d = detector();
    // 23:30 and 00:30 New York time: two days, two alerts.
    const a = d.process(event('nurse', 'p-nurse', Date.UTC(2026, 2, 3, 4, 30)));
    const b = d.process(event('nurse', 'p-nurse', Date.UTC(2026, 2, 3, 5, 30)));
    expect([a[0]!.day, b[0]!.day]).toEqual(['2026-03-02', '2026-03-03']);
    expect(a[0]!.alertId).not.toBe(b[0]!.alertId);
  });

  it('keeps tenants apart', () => {
    const d = detector();
    expect(d.process(event('nurse', 'p-nurse', T0, 'clinic-a'))).toHaveLength(1);
    expect(d.process(event('nurse', 'p-nurse', T0, 'clinic-b'))).toHaveLength(1);
    expect(d.stats().tenants).toBe(2);
  });

  it('skips rules the policy disables', () => {
    const d = detector({ ...policy, selfAccess: { enabled: false }, bulkRead: { ...policy.bulkRead, enabled: false } });
    expect(run(day(), d)).toEqual([]);
  });

  it('forgets alerts of closed days at flush, bounding alert memory', () => {
    const d = detector();
    d.process(event('nurse', 'p-nurse', T0));
    d.flush();
    expect(d.stats().openAlerts).toBe(1);
    d.process(event('other', 'p1', T0 + 2 * 24 * 60 * MIN));
    d.flush();
    expect(d.stats().openAlerts).toBe(0);
  });

  it('refuses duplicate rule ids', () => {
    const r: Rule<Policy, unknown> = { id: 'x', evaluate: () => NO_FINDINGS };
    expect(() => createDetector({ rules: [r, r], policyFor: () => policy, referenceFor: () => reference })).toThrow(
      /duplicate/,
    );
  });

  it('clamps risk scores and explanation length from a misbehaving rule', () => {
    const r: Rule<Policy, unknown> = {
      id: 'loud',
      evaluate: () => [{ severity: 'low', riskScore: 250.4, explanation: 'x'.repeat(5000) }],
    };
    const d = createDetector({ rules: [r], policyFor: () => policy, referenceFor: () => reference });
    const [a] = d.process(event('u', 'p', T0));
    expect(AlertSchema.parse(a)).toMatchObject({ riskScore: 100 });
  });
});

describe('maxPatientAlertsPerRuleUserDay', () => {
  type CapPolicy = EnginePolicy;
  /** Fires for every patient access, like no-treatment-relationship for an unrelated reader. */
  const everyPatient: Rule<CapPolicy, unknown> = {
    id: 'every-patient',
    evaluate: ({ event }) =>
      event.patient === undefined
        ? NO_FINDINGS
        : [{ severity: 'low', riskScore: 40, explanation: 'Opened a record.', patientId: event.patient.id }],
  };
  const capped = (max: number | undefined) =>
    createDetector<CapPolicy, unknown>({
      rules: [everyPatient],
      policyFor: () => ({ ...policy, ...(max === undefined ? {} : { maxPatientAlertsPerRuleUserDay: max }) }),
      referenceFor: () => ({}),
    });
  const run = (d: ReturnType<typeof capped>, events: readonly AccessEvent[]): Map<string, Alert> => {
    const out = new Map<string, Alert>();
    for (const e of events) for (const a of d.process(e)) out.set(a.alertId, a);
    for (const a of d.flush({ endOfInput: true })) out.set(a.alertId, a);
    return out;
  };

  it('keeps the first N patients as their own alerts and collects the rest in one user-level alert', () => {
    seq = 0;
    const events = Array.from({ length: 10 }, (_, i) => event('clerk', `p${i}`, T0 + i * MIN));
    const alerts = [...run(capped(3), events).values()];
    const perPatient = alerts.filter((a) => a.patientId !== undefined);
    expect(perPatient.map((a) => a.patientId).sort()).toEqual(['p0', 'p1', 'p2']);
    const overflow = alerts.filter((a) => a.patientId === undefined);
    expect(overflow).toHaveLength(1);
    expect(overflow[0]!.evidence.map((e) => e.eventId)).toEqual(['e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10']);
    expect(overflow[0]!.explanation).toMatch(/More than 3 patients raised this rule for the same user on 2026-03-02/);
    for (const a of alerts) expect(AlertSchema.safeParse(a).success).toBe(true);
  });

  it('a patient who already has an alert keeps merging into it; the count starts again the next day', () => {
    seq = 0;
    const events = [
      ...Array.from({ length: 3 }, (_, i) => event('clerk', `p${i}`, T0 + i * MIN)),
      event('clerk', 'p9', T0 + 10 * MIN), // overflow
      event('clerk', 'p0', T0 + 20 * MIN), // p0 has its alert: merges there
      event('clerk', 'p9', T0 + 24 * 60 * MIN), // next day: an alert of its own again
    ];
    const alerts = [...run(capped(3), events).values()];
    const p0 = alerts.find((a) => a.patientId === 'p0')!;
    expect(p0.evidence.map((e) => e.eventId)).toEqual(['e1', 'e5']);
    expect(alerts.filter((a) => a.patientId === undefined).map((a) => a.evidence.map((e) => e.eventId))).toEqual([
      ['e4'],
    ]);
    expect(alerts.filter((a) => a.patientId === 'p9').map((a) => a.day)).toEqual(['2026-03-03']);
  });

  it('without the setting every patient gets an alert, and replays give the same alerts', () => {
    seq = 0;
    const events = Array.from({ length: 40 }, (_, i) => event('clerk', `p${i}`, T0 + i * MIN));
    expect(run(capped(undefined), events).size).toBe(40);
    const a = run(capped(5), events);
    const b = run(capped(5), events);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    expect(a.size).toBe(6);
  });
});

describe('flush({ now }): finished days of a quiet stream', () => {
  /** Reports every user who opened a patient record that day. */
  const everyUserDay: Rule<EnginePolicy, unknown> = {
    id: 'every-user-day',
    evaluate: () => NO_FINDINGS,
    evaluateDay: ({ closed }) =>
      closed.users.map((u) => ({
        userId: u.userId,
        severity: 'low' as const,
        riskScore: 10,
        explanation: `Opened ${u.distinctPatients} patients.`,
      })),
  };
  const make = () =>
    createDetector<EnginePolicy, unknown>({
      rules: [everyUserDay],
      policyFor: () => policy,
      referenceFor: () => ({}),
    });
  // T0 is 10:00 in New York on 2026-03-02; that day ends at 05:00 UTC on 2026-03-03.
  const dayEnd = Date.UTC(2026, 2, 3, 5, 0);

  it('runs day rules once over days that ended more than the lateness ago, without closing them', () => {
    seq = 0;
    const d = make();
    for (let i = 0; i < 4; i++) d.process(event(`u${i % 2}`, `p${i}`, T0 + i * MIN));
    expect(d.flush()).toEqual([]);
    expect(d.flush({ now: dayEnd + 5 * MIN })).toEqual([]); // within the lateness (10 min)
    const early = d.flush({ now: dayEnd + 11 * MIN });
    expect(early.map((a) => [a.userId, a.day, a.explanation])).toEqual([
      ['u0', '2026-03-02', 'Opened 2 patients.'],
      ['u1', '2026-03-02', 'Opened 2 patients.'],
    ]);
    expect(d.flush({ now: dayEnd + 20 * MIN })).toEqual([]); // once per day
    expect(d.stats().window.days).toBe(2); // nothing closed or evicted

    // A late-but-allowed event of that day, then the real close: the same alert ids, merged.
    d.process(event('u0', 'p9', T0 + 60 * MIN));
    const closed = d.flush({ endOfInput: true });
    expect(closed.map((a) => a.alertId).sort()).toEqual(early.map((a) => a.alertId).sort());
    // The merge keeps the evidence union (the explanation is chosen order-free, so it may stay).
    expect(closed.find((a) => a.userId === 'u0')!.evidence.map((e) => e.eventId)).toEqual(['e1', 'e3', 'e5']);
  });
});
