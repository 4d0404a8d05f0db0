import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { accessEvent, runRule } from '../testing/run-rule.js';
import { vipConfidentialRule } from './vip-confidential.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0);
const hired = Date.UTC(2020, 0, 1);
const reference = createReferenceIndex(
  parseReferenceData({
    patients: [
      { id: 'p-star', givenName: 'Famous', familyName: 'Person', birthDate: '1980-01-01', vip: true },
      { id: 'p-secret', givenName: 'Quiet', familyName: 'Person', birthDate: '1970-01-01', confidential: true },
      { id: 'p-plain', givenName: 'Plain', familyName: 'Person', birthDate: '1990-01-01' },
    ],
    workforce: [
      {
        userId: 'ada',
        givenName: 'Ada',
        familyName: 'Lovelace',
        displayName: 'Dr. Ada Lovelace',
        role: 'physician',
        department: 'cardio',
        status: 'active',
        hiredAt: hired,
      },
      {
        userId: 'ned',
        givenName: 'Ned',
        familyName: 'Nurse',
        role: 'nurse',
        department: 'ed',
        status: 'active',
        hiredAt: hired,
      },
      {
        userId: 'hal',
        givenName: 'Hal',
        familyName: 'Him',
        role: 'him_clerk',
        department: 'him',
        status: 'active',
        hiredAt: hired,
      },
    ],
    relationships: [
      {
        sourceId: 'appt-1',
        patientId: 'p-star',
        userId: 'ada',
        kind: 'care_team',
        validFrom: T0 - HOUR,
        validTo: T0 + HOUR,
      },
      { patientId: 'p-star', departmentId: 'ed', kind: 'encounter', validFrom: T0 - HOUR, validTo: T0 + HOUR },
    ],
  }),
);

function run(actor: string, patient: string | undefined, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}) {
  return runRule(vipConfidentialRule, reference, accessEvent(T0, actor, patient, over), policy);
}

describe('vip-confidential', () => {
  it('fires on a VIP record without a treatment relationship, with the policy severity and risk', () => {
    const [a, ...rest] = run('hal', 'p-star');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'vip-confidential',
      userId: 'hal',
      patientId: 'p-star',
      severity: 'high',
      riskScore: 70,
    });
    expect(a!.explanation).toBe('Hal Him viewed the record of a VIP patient.');
  });

  it('fires on a confidential record, and on a failed attempt', () => {
    expect(run('hal', 'p-secret')[0]!.explanation).toBe(
      'Hal Him viewed the record of a patient with a confidential record.',
    );
    expect(run('hal', 'p-star', { outcome: 'failure' })[0]!.explanation).toMatch(/^Hal Him tried to view/);
  });

  it('takes severity and risk from the policy section', () => {
    expect(run('hal', 'p-star', {}, { vipConfidential: { severity: 'critical', riskScore: 90 } })[0]).toMatchObject({
      severity: 'critical',
      riskScore: 90,
    });
  });

  it('does not fire for a care-team member of the VIP, or a member of a related department', () => {
    expect(run('ada', 'p-star')).toEqual([]);
    expect(run('ned', 'p-star')).toEqual([]);
  });

  it('fires once the relationship has ended', () => {
    expect(run('ada', 'p-star', { occurredAt: T0 + HOUR })).toHaveLength(1);
  });

  it('with withRelationship "lower", keeps the alert one severity lower at half the risk, naming the relationship', () => {
    const [a] = run('ada', 'p-star', {}, { vipConfidential: { withRelationship: 'lower' } });
    expect(a).toMatchObject({ severity: 'medium', riskScore: 35 });
    expect(a!.explanation).toBe(
      'Dr. Ada Lovelace viewed the record of a VIP patient; risk lowered because a care-team assignment with them is current.',
    );
    expect(run('ned', 'p-star', {}, { vipConfidential: { withRelationship: 'lower' } })[0]!.explanation).toContain(
      'an encounter with their department (ed) is current',
    );
  });

  it('does not fire for an ordinary patient, a login, an exempt role or a disabled rule', () => {
    expect(run('hal', 'p-plain')).toEqual([]);
    expect(run('hal', undefined)).toEqual([]);
    expect(run('hal', 'p-star', {}, { vipConfidential: { exemptRoles: ['him_clerk'] } })).toEqual([]);
    expect(run('hal', 'p-star', {}, { vipConfidential: { enabled: false } })).toEqual([]);
  });

  it('never copies free-text event fields into the explanation', () => {
    expect(run('hal', 'p-star')[0]!.explanation).not.toContain('free text');
  });
});
