import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy.js';
import { accessEvent, runRule } from '../testing/run-rule.js';
import { createReferenceIndex, parseReferenceData, type ReferenceDataInput } from '../reference-data.js';
import { neighbourRule } from './neighbour.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 3, 14, 0);
const home = { line: '12 Main St., Apt 5', city: 'Springfield', state: 'IL', postalCode: '62701' };

const data: ReferenceDataInput = {
  workforce: [
    {
      userId: 'jdoe',
      givenName: 'Jane',
      familyName: 'Doe',
      displayName: 'Nurse Jane Doe',
      address: home,
      role: 'nurse',
      department: 'er',
      status: 'active',
      hiredAt: 0,
    },
    {
      userId: 'boxed',
      givenName: 'Bo',
      familyName: 'Box',
      address: { ...home, line: 'P.O. Box 40' },
      role: 'nurse',
      department: 'er',
      status: 'active',
      hiredAt: 0,
    },
  ],
  patients: [
    p('p-down-the-road', 'Smith', { ...home, line: '47 main street' }),
    p('p-same-building', 'Jones', { ...home, line: '12 Main St Apt 3' }),
    p('p-husband', 'Doe', home),
    p('p-roommate', 'Kim', { ...home, line: '12 Main Street' }),
    p('p-other-zip', 'Smith', { ...home, line: '47 Main St', postalCode: '62704' }),
    p('p-other-street', 'Smith', { ...home, line: '47 Elm St' }),
    p('p-box', 'Smith', { ...home, line: 'PO Box 12' }),
    p('p-no-number', 'Smith', { ...home, line: 'Main Street' }),
    p('p-homeless', 'Smith', undefined),
    { ...p('p-self', 'Doe', { ...home, line: '12 Main St Unit 7' }), workforceUserId: 'jdoe' },
  ],
  relationships: [
    { patientId: 'p-down-the-road', userId: 'jdoe', kind: 'care_team', validFrom: T0 + HOUR, validTo: T0 + 2 * HOUR },
    {
      patientId: 'p-same-building',
      departmentId: 'er',
      kind: 'encounter',
      validFrom: T0 + HOUR,
      validTo: T0 + 2 * HOUR,
    },
  ],
};
const reference = createReferenceIndex(parseReferenceData(data));

function p(id: string, familyName: string, address: typeof home | undefined) {
  return { id, givenName: 'X', familyName, birthDate: '1990-01-01', ...(address ? { address } : {}) };
}

function fire(patient: string, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}, user = 'jdoe') {
  return runRule(neighbourRule, reference, accessEvent(T0, user, patient, over), policy);
}

describe('neighbour', () => {
  it('fires for a patient on the same street and postal code, named from reference data', () => {
    const [a, ...rest] = fire('p-down-the-road');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'neighbour',
      userId: 'jdoe',
      patientId: 'p-down-the-road',
      severity: 'medium',
      riskScore: 60,
    });
    expect(a!.explanation).toBe(
      'Nurse Jane Doe accessed the record of a patient who lives on their street, in another household (action: view).',
    );
    expect(a!.explanation).not.toMatch(/free text/i);
  });

  it('fires for another unit of the same building, with policy severity and risk', () => {
    const [a] = fire('p-same-building', {}, { neighbour: { severity: 'high', riskScore: 70 } });
    expect(a).toMatchObject({ severity: 'high', riskScore: 70 });
  });

  it('does not fire for the same household, whatever the surname (the family rule’s case)', () => {
    expect(fire('p-husband')).toEqual([]);
    expect(fire('p-roommate')).toEqual([]);
  });

  it('does not fire for another postal code, another street, PO boxes or missing addresses', () => {
    expect(fire('p-other-zip')).toEqual([]);
    expect(fire('p-other-street')).toEqual([]);
    expect(fire('p-box')).toEqual([]);
    expect(fire('p-no-number')).toEqual([]);
    expect(fire('p-homeless')).toEqual([]);
    expect(fire('p-unknown')).toEqual([]);
    // A user whose own address is a PO box has no street.
    expect(fire('p-down-the-road', {}, {}, 'boxed')).toEqual([]);
  });

  it('does not fire for the user’s own record', () => {
    expect(fire('p-self')).toEqual([]);
  });

  it('is suppressed by a current treatment relationship of the user or their department', () => {
    expect(fire('p-down-the-road', { occurredAt: T0 + HOUR })).toEqual([]);
    expect(fire('p-same-building', { occurredAt: T0 + HOUR })).toEqual([]);
    expect(fire('p-down-the-road', { occurredAt: T0 + 2 * HOUR })).toHaveLength(1);
  });

  it('is lowered with the relationship named when the policy says "lower"', () => {
    const lower = { neighbour: { withRelationship: 'lower' as const } };
    const [own] = fire('p-down-the-road', { occurredAt: T0 + HOUR }, lower);
    expect(own).toMatchObject({ severity: 'low', riskScore: 30 });
    expect(own!.explanation).toMatch(/Lowered: a care-team assignment with them is current\.$/);
    const [dept] = fire('p-same-building', { occurredAt: T0 + HOUR }, lower);
    expect(dept!.explanation).toMatch(/Lowered: an encounter with their department \(er\) is current\.$/);
  });

  it('is off when disabled and skips exempt roles', () => {
    expect(fire('p-down-the-road', {}, { neighbour: { enabled: false } })).toEqual([]);
    expect(fire('p-down-the-road', {}, { neighbour: { exemptRoles: ['nurse'] } })).toEqual([]);
  });
});
