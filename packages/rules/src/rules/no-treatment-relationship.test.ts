import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { accessEvent, runRule } from '../testing/run-rule.js';
import { noTreatmentRelationshipRule } from './no-treatment-relationship.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0);
const hired = Date.UTC(2020, 0, 1);
const member = (userId: string, role: string, department: string) => ({
  userId,
  givenName: userId,
  familyName: 'Staff',
  role,
  department,
  status: 'active' as const,
  hiredAt: hired,
});
const reference = createReferenceIndex(
  parseReferenceData({
    patients: [
      { id: 'p1', givenName: 'Pat', familyName: 'One', birthDate: '1980-01-01' },
      { id: 'p-ann', givenName: 'Ann', familyName: 'Staff', birthDate: '1980-01-01', workforceUserId: 'ann' },
    ],
    workforce: [
      member('ann', 'nurse', 'icu'),
      member('doc', 'physician', 'cardio'),
      member('bill', 'billing', 'billing'),
    ],
    relationships: [
      { patientId: 'p1', userId: 'doc', kind: 'appointment', validFrom: T0 - HOUR, validTo: T0 + HOUR },
      { patientId: 'p1', departmentId: 'icu', kind: 'encounter', validFrom: T0 + 2 * HOUR, validTo: T0 + 3 * HOUR },
    ],
  }),
);

function run(actor: string, patient: string | undefined, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}) {
  return runRule(noTreatmentRelationshipRule, reference, accessEvent(T0, actor, patient, over), policy);
}

describe('no-treatment-relationship', () => {
  it('fires on a view by a user with no relationship to the patient at event time', () => {
    const [a, ...rest] = run('ann', 'p1');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'no-treatment-relationship',
      userId: 'ann',
      patientId: 'p1',
      severity: 'low',
      riskScore: 40,
    });
    expect(a!.explanation).toBe(
      'ann Staff viewed the record of a patient, but neither they nor their department had a treatment relationship with the patient at the time.',
    );
  });

  it('does not fire while the user relationship is valid, and fires once it has expired', () => {
    expect(run('doc', 'p1')).toEqual([]);
    expect(run('doc', 'p1', { occurredAt: T0 + HOUR })).toHaveLength(1);
  });

  it('counts a department relationship only while valid, and only when the policy says so', () => {
    expect(run('ann', 'p1', { occurredAt: T0 + 2 * HOUR })).toEqual([]);
    const [a] = run(
      'ann',
      'p1',
      { occurredAt: T0 + 2 * HOUR },
      { noTreatmentRelationship: { departmentRelationships: false } },
    );
    expect(a!.explanation).toContain('but they had no treatment relationship with the patient at the time');
  });

  it('fires on update, print and export too, by users unknown to reference data', () => {
    for (const action of ['update', 'create', 'delete', 'print', 'export'] as const) {
      expect(run('ann', 'p1', { action })).toHaveLength(1);
    }
    expect(run('ghost', 'p1')[0]!.explanation).toMatch(/^User ghost viewed/);
  });

  it('never fires on logins, queries, break-the-glass, failures or self-access', () => {
    expect(run('ann', undefined)).toEqual([]);
    expect(run('ann', 'p1', { action: 'query' })).toEqual([]);
    expect(run('ann', 'p1', { action: 'break_glass' })).toEqual([]);
    expect(run('ann', 'p1', { outcome: 'failure' })).toEqual([]);
    expect(run('ann', 'p-ann')).toEqual([]);
  });

  it('exempts the roles the policy lists (billing, HIM), taking the role from reference data', () => {
    expect(run('bill', 'p1')).toHaveLength(1);
    expect(run('bill', 'p1', {}, { noTreatmentRelationship: { exemptRoles: ['billing'] } })).toEqual([]);
    expect(
      run(
        'bill',
        'p1',
        { actor: { userId: 'bill', role: 'nurse' } },
        { noTreatmentRelationship: { exemptRoles: ['billing'] } },
      ),
    ).toEqual([]);
  });

  it('never copies free-text event fields into the explanation', () => {
    expect(run('ann', 'p1')[0]!.explanation).not.toContain('free text');
  });
});
