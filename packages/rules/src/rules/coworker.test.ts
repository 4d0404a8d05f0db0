import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { accessEvent, runRule } from '../testing/run-rule.js';
import { coworkerRule } from './coworker.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0);
const hired = Date.UTC(2020, 0, 1);
const member = (userId: string, givenName: string, department: string) => ({
  userId,
  givenName,
  familyName: 'Staff',
  role: 'nurse',
  department,
  status: 'active' as const,
  hiredAt: hired,
});
const reference = createReferenceIndex(
  parseReferenceData({
    patients: [
      { id: 'p-ada', givenName: 'Ada', familyName: 'Staff', birthDate: '1980-01-01', workforceUserId: 'ada' },
      { id: 'p-bob', givenName: 'Bob', familyName: 'Staff', birthDate: '1981-01-01', workforceUserId: 'bob' },
      { id: 'p-cy', givenName: 'Cy', familyName: 'Staff', birthDate: '1982-01-01', workforceUserId: 'cy' },
      { id: 'p-out', givenName: 'Out', familyName: 'Sider', birthDate: '1983-01-01' },
    ],
    workforce: [
      member('ada', 'Ada', 'icu'),
      member('bob', 'Bob', 'icu'),
      member('cy', 'Cy', 'lab'),
      member('eve', 'Eve', 'ed'),
    ],
    relationships: [
      { patientId: 'p-bob', userId: 'eve', kind: 'appointment', validFrom: T0 - HOUR, validTo: T0 + HOUR },
      { patientId: 'p-cy', departmentId: 'icu', kind: 'encounter', validFrom: T0 - HOUR, validTo: T0 + HOUR },
    ],
  }),
);

function run(actor: string, patient: string | undefined, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}) {
  return runRule(coworkerRule, reference, accessEvent(T0, actor, patient, over), policy);
}

describe('coworker', () => {
  it('fires when the patient is another workforce member, naming the department from reference data', () => {
    const [a, ...rest] = run('ada', 'p-bob');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'coworker',
      userId: 'ada',
      patientId: 'p-bob',
      severity: 'medium',
      riskScore: 60,
    });
    expect(a!.explanation).toBe('Ada Staff viewed the record of a patient who is a coworker in their own department.');
    expect(run('eve', 'p-cy')[0]!.explanation).toBe(
      'Eve Staff viewed the record of a patient who is a coworker in the lab department.',
    );
  });

  it('does not fire on self-access, a patient not on staff, or a login', () => {
    expect(run('ada', 'p-ada')).toEqual([]);
    expect(run('ada', 'p-out')).toEqual([]);
    expect(run('ada', undefined)).toEqual([]);
  });

  it('is suppressed by a relationship of the user or their department at event time, not after it', () => {
    expect(run('eve', 'p-bob')).toEqual([]);
    expect(run('ada', 'p-cy')).toEqual([]);
    expect(run('eve', 'p-bob', { occurredAt: T0 + 2 * HOUR })).toHaveLength(1);
  });

  it('with withRelationship "lower", keeps the alert one severity lower at half the risk', () => {
    const [a] = run('eve', 'p-bob', {}, { coworker: { withRelationship: 'lower' } });
    expect(a).toMatchObject({ severity: 'low', riskScore: 30 });
    expect(a!.explanation).toContain('risk lowered because an appointment with them is current');
  });

  it('with sameDepartmentOnly, ignores coworkers of other departments', () => {
    expect(run('eve', 'p-cy', {}, { coworker: { sameDepartmentOnly: true } })).toEqual([]);
    expect(run('ada', 'p-bob', {}, { coworker: { sameDepartmentOnly: true } })).toHaveLength(1);
  });

  it('never copies free-text event fields into the explanation', () => {
    expect(run('ada', 'p-bob')[0]!.explanation).not.toContain('free text');
  });
});
