import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { createDetector, type EnginePolicy } from '../engine.js';
import { selfAccessRule, type SelfAccessPolicy, type SelfAccessReference } from './self-access.js';

const policy: EnginePolicy & SelfAccessPolicy = {
  timeZone: 'UTC',
  window: { windowMs: 3_600_000, hops: 1, latenessMs: 0, distinctCap: 10, dailyCap: 10, pairWindowMs: 0, pairCap: 10 },
};
const reference: SelfAccessReference = {
  workforceUserIdOfPatient: (p) => ({ 'p-ada': 'ada', 'p-bob': 'bob' })[p],
  displayNameOfUser: (u) => (u === 'ada' ? 'Ada Lovelace' : undefined),
};

function fire(actor: string, patient: string | undefined, over: Partial<AccessEvent> = {}) {
  const d = createDetector({ rules: [selfAccessRule], policyFor: () => policy, referenceFor: () => reference });
  return d.process({
    eventId: 'e1',
    tenant: 't',
    occurredAt: 1_000,
    receivedAt: 1_000,
    source: { system: 'epic' },
    actor: { userId: actor, name: 'free text <b>' },
    ...(patient === undefined ? {} : { patient: { id: patient } }),
    action: patient === undefined ? 'login' : 'view',
    resource: { type: 'chart' },
    outcome: 'success',
    ...over,
  });
}

describe('self-access', () => {
  it('fires when the patient is the acting workforce member, named from reference data', () => {
    const [a, ...rest] = fire('ada', 'p-ada');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ ruleId: 'self-access', userId: 'ada', patientId: 'p-ada', riskScore: 60 });
    expect(a!.explanation).toBe('Ada Lovelace accessed their own patient record (action: view).');
  });

  it('fires at lower risk on a failed attempt, and falls back to the user id without a name', () => {
    expect(fire('bob', 'p-bob', { outcome: 'failure' })[0]).toMatchObject({ riskScore: 40 });
    expect(fire('bob', 'p-bob')[0]!.explanation).toMatch(/^User bob accessed/);
  });

  it('does not fire for a coworker, a non-workforce patient, or a login', () => {
    expect(fire('ada', 'p-bob')).toEqual([]);
    expect(fire('ada', 'p-stranger')).toEqual([]);
    expect(fire('ada', undefined)).toEqual([]);
  });

  it('never copies free-text event fields into the explanation', () => {
    expect(fire('ada', 'p-ada')[0]!.explanation).not.toContain('free text');
  });
});
