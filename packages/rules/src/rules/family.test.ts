import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy.js';
import { accessEvent, runRule } from '../testing/run-rule.js';
import { createReferenceIndex, parseReferenceData, type ReferenceDataInput } from '../reference-data.js';
import { familyRule } from './family.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 3, 14, 0);
const home = { line: '12 Main St., Apt #4', city: 'Springfield', state: 'IL', postalCode: '62701' };

const data: ReferenceDataInput = {
  workforce: [
    {
      userId: 'mlopez',
      givenName: 'Maria',
      familyName: 'López',
      displayName: 'Dr. Maria Lopez',
      address: home,
      role: 'physician',
      department: 'cardiology',
      status: 'active',
      hiredAt: 0,
    },
    {
      userId: 'nohome',
      givenName: 'Ann',
      familyName: 'Lopez',
      role: 'nurse',
      department: 'cardiology',
      status: 'active',
      hiredAt: 0,
    },
  ],
  patients: [
    // Same household, spelled differently by another system.
    p('p-son', 'LOPEZ', { ...home, line: '12 main street apt 4', postalCode: '62701-1234' }),
    p('p-double', 'García-López', { ...home, line: '12 Main Street' }),
    p('p-stranger', 'Lopez', { ...home, line: '480 Oak Ave' }),
    p('p-other-zip', 'Lopez', { ...home, postalCode: '62702' }),
    p('p-other-unit', 'Lopez', { ...home, line: '12 Main St Apt 9' }),
    p('p-neighbour', 'Smith', { ...home, line: '14 Main St' }),
    p('p-spouse', 'Nguyen', home),
    p('p-homeless', 'Lopez', undefined),
    p('p-box', 'Lopez', { ...home, line: 'PO Box 12' }),
    { ...p('p-self', 'Lopez', home), workforceUserId: 'mlopez' },
  ],
  relationships: [
    { patientId: 'p-son', userId: 'mlopez', kind: 'appointment', validFrom: T0 + HOUR, validTo: T0 + 2 * HOUR },
    { patientId: 'p-double', departmentId: 'cardiology', kind: 'encounter', validFrom: T0, validTo: T0 + HOUR },
  ],
};
const reference = createReferenceIndex(parseReferenceData(data));

function p(id: string, familyName: string, address: typeof home | undefined) {
  return { id, givenName: 'X', familyName, birthDate: '1990-01-01', ...(address ? { address } : {}) };
}

function fire(patient: string, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}, user = 'mlopez') {
  return runRule(familyRule, reference, accessEvent(T0, user, patient, over), policy);
}

describe('family', () => {
  it('fires for a patient sharing the user’s surname and address, named from reference data', () => {
    const [a, ...rest] = fire('p-son');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'family',
      userId: 'mlopez',
      patientId: 'p-son',
      severity: 'high',
      riskScore: 80,
    });
    expect(a!.explanation).toBe(
      'Dr. Maria Lopez accessed the record of a patient who shares their surname and address (action: view).',
    );
    expect(a!.explanation).not.toMatch(/free text/i);
  });

  it('matches a compound surname at the same house when one side omits the unit', () => {
    expect(fire('p-double', { occurredAt: T0 - 1 })).toHaveLength(1);
  });

  it('reads severity and risk from the policy and says "tried" on a failed attempt', () => {
    const [a] = fire('p-son', { outcome: 'failure' }, { family: { severity: 'critical', riskScore: 90 } });
    expect(a).toMatchObject({ severity: 'critical', riskScore: 90 });
    expect(a!.explanation).toMatch(/^Dr\. Maria Lopez tried to access/);
  });

  it('does not fire on surname alone: same surname at a different address, postal code or unit', () => {
    expect(fire('p-stranger')).toEqual([]);
    expect(fire('p-other-zip')).toEqual([]);
    expect(fire('p-other-unit')).toEqual([]);
  });

  it('does not fire for a neighbour, a PO box, a missing address, or the user’s own record', () => {
    expect(fire('p-neighbour')).toEqual([]);
    expect(fire('p-box')).toEqual([]);
    expect(fire('p-homeless')).toEqual([]);
    expect(fire('p-son', {}, {}, 'nohome')).toEqual([]);
    expect(fire('p-self')).toEqual([]);
    expect(fire('p-unknown')).toEqual([]);
  });

  it('ignores another surname at the same address unless the policy opts in, then fires lower', () => {
    expect(fire('p-spouse')).toEqual([]);
    const [a] = fire('p-spouse', {}, { family: { householdWithoutSurname: true } });
    expect(a).toMatchObject({ severity: 'medium', riskScore: 40 });
    expect(a!.explanation).toContain('lives at their address under another surname');
  });

  it('is suppressed by a current treatment relationship of the user or their department', () => {
    expect(fire('p-son', { occurredAt: T0 + HOUR })).toEqual([]);
    expect(fire('p-double', { occurredAt: T0 + HOUR / 2 })).toEqual([]);
    // Outside the relationship windows it fires again.
    expect(fire('p-son', { occurredAt: T0 + 2 * HOUR })).toHaveLength(1);
    expect(fire('p-double', { occurredAt: T0 + HOUR })).toHaveLength(1);
  });

  it('is lowered with the relationship named when the policy says "lower"', () => {
    const lower = { family: { withRelationship: 'lower' as const } };
    const [own] = fire('p-son', { occurredAt: T0 + HOUR }, lower);
    expect(own).toMatchObject({ severity: 'medium', riskScore: 40 });
    expect(own!.explanation).toMatch(/Lowered: an appointment with them is current\.$/);
    const [dept] = fire('p-double', { occurredAt: T0 }, lower);
    expect(dept!.explanation).toMatch(/Lowered: an encounter with their department \(cardiology\) is current\.$/);
  });

  it('is off when disabled and skips exempt roles', () => {
    expect(fire('p-son', {}, { family: { enabled: false } })).toEqual([]);
    expect(fire('p-son', {}, { family: { exemptRoles: ['physician'] } })).toEqual([]);
  });
});
