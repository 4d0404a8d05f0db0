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
