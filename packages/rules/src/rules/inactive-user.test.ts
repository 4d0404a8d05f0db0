import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import { createDetector } from '../engine.js';
import { parsePolicy, type PolicyInput } from '../policy.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { inactiveUserRule } from './inactive-user.js';

const DAY = 86_400_000;
// 2026-02-01 17:00 in New York (EST), the moment HR recorded the termination.
const TERMINATED = Date.parse('2026-02-01T17:00:00-05:00');
const HIRED = Date.parse('2025-06-02T09:00:00-04:00');
const member = (userId: string, extra: object) => ({
  userId,
  givenName: 'Sam',
  familyName: 'Ortiz',
  role: 'clerk',
  department: 'registration',
  hiredAt: HIRED,
  ...extra,
});
const reference = createReferenceIndex(
  parseReferenceData({
    workforce: [
      member('left', { displayName: 'Sam Ortiz', status: 'terminated', terminatedAt: TERMINATED }),
      // HR has the date but not yet the status: the date decides.
      member('lagging', { status: 'active', terminatedAt: TERMINATED }),
      member('leave', { displayName: 'Pat Lee', status: 'inactive' }),
      member('active', { displayName: 'Ann Kim', status: 'active' }),
    ],
  }),
);

function run(user: string, at: number, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}): Alert[] {
  const p = parsePolicy({ timeZone: 'America/New_York', ...policy });
  const d = createDetector({ rules: [inactiveUserRule], policyFor: () => p, referenceFor: () => reference });
  return d.process({
    eventId: 'e1',
    tenant: 't',
    occurredAt: at,
    receivedAt: at,
    source: { system: 'epic' },
    actor: { userId: user, name: 'free text <b>' },
    action: 'login',
    resource: { type: 'session' },
    outcome: 'success',
    ...over,
  });
}

describe('inactive-user', () => {
  it('fires for the login of a user who left last month, user-level, with the policy severity', () => {
    const [a, ...rest] = run('left', TERMINATED + 30 * DAY);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ ruleId: 'inactive-user', userId: 'left', severity: 'critical', riskScore: 95 });
    expect(a!.patientId).toBeUndefined();
    expect(a!.explanation).toBe('Sam Ortiz logged in after their termination on 2026-02-01.');
  });

  it('fires for a chart access at the moment of termination, and when the status lags the date', () => {
    expect(run('left', TERMINATED, { action: 'view', patient: { id: 'p1' } })[0]!.explanation).toBe(
      'Sam Ortiz accessed a patient record (action: view) after their termination on 2026-02-01.',
    );
    expect(run('lagging', TERMINATED + DAY)[0]!.explanation).toBe(
      'Sam Ortiz logged in after their termination on 2026-02-01.',
    );
  });

  it('fires before the hire date and for an inactive status', () => {
    expect(run('active', HIRED - DAY)[0]!.explanation).toBe('Ann Kim logged in before their hire date of 2025-06-02.');
    expect(run('leave', HIRED + 100 * DAY)[0]!.explanation).toBe(
      'Pat Lee logged in while their workforce status is inactive.',
    );
  });

  it('fires one severity lower at half the risk for a failed attempt', () => {
    const [a] = run('left', TERMINATED + DAY, { outcome: 'failure' });
    expect(a).toMatchObject({ severity: 'high', riskScore: 48 });
    expect(a!.explanation).toBe('Sam Ortiz tried to log in after their termination on 2026-02-01.');
  });

  it('near-miss: access the day before termination, a minute before it, and on the hire day', () => {
    expect(run('left', TERMINATED - DAY)).toEqual([]);
    expect(run('left', TERMINATED - 60_000)).toEqual([]);
    expect(run('lagging', TERMINATED - DAY)).toEqual([]);
    expect(run('active', HIRED)).toEqual([]);
    expect(run('active', TERMINATED + DAY)).toEqual([]);
  });

  it('near-miss: a user without a workforce record (missing reference data is not a departure)', () => {
    expect(run('ghost', TERMINATED + DAY)).toEqual([]);
  });

  it('allows graceMinutes of clock skew after the termination', () => {
    const grace = { inactiveUser: { graceMinutes: 15 } };
    expect(run('left', TERMINATED + 14 * 60_000, {}, grace)).toEqual([]);
    expect(run('left', TERMINATED + 15 * 60_000, {}, grace)).toHaveLength(1);
  });

  it('honours exempt roles and the enabled switch, and never copies free-text event fields', () => {
    expect(run('left', TERMINATED + DAY, {}, { inactiveUser: { exemptRoles: ['clerk'] } })).toEqual([]);
    expect(run('left', TERMINATED + DAY, {}, { inactiveUser: { enabled: false } })).toEqual([]);
    expect(run('left', TERMINATED + DAY)[0]!.explanation).not.toContain('free text');
  });
});
