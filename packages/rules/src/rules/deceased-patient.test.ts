import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import { createDetector } from '../engine.js';
import { parsePolicy, type PolicyInput } from '../policy.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { deceasedPatientRule } from './deceased-patient.js';

const reference = createReferenceIndex(
  parseReferenceData({
    patients: [
      { id: 'p-dead', givenName: 'Ed', familyName: 'Gray', birthDate: '1940-05-05', deathDate: '2026-03-10' },
      { id: 'p-alive', givenName: 'Al', familyName: 'Day', birthDate: '1950-01-01' },
    ],
    workforce: [
      {
        userId: 'clerk',
        displayName: 'Maria Lopez',
        givenName: 'Maria',
        familyName: 'Lopez',
        role: 'registration',
        department: 'front-desk',
        status: 'active',
        hiredAt: 0,
      },
      {
        userId: 'him',
        givenName: 'Hal',
        familyName: 'Ives',
        role: 'him',
        department: 'records',
        status: 'active',
        hiredAt: 0,
      },
    ],
  }),
);
const noGrace: PolicyInput = { deceasedPatient: { graceDays: 0 } };

/** `local` is a New York wall-clock time with its offset. */
function run(
  local: string,
  patient = 'p-dead',
  policy: PolicyInput = noGrace,
  over: Partial<AccessEvent> = {},
): Alert[] {
  const p = parsePolicy({ timeZone: 'America/New_York', ...policy });
  const d = createDetector({ rules: [deceasedPatientRule], policyFor: () => p, referenceFor: () => reference });
  const at = Date.parse(local);
  return d.process({
    eventId: 'e1',
    tenant: 't',
    occurredAt: at,
    receivedAt: at,
    source: { system: 'epic' },
    actor: { userId: 'clerk', name: 'free text <b>' },
    patient: { id: patient },
    action: 'view',
    resource: { type: 'chart' },
    outcome: 'success',
    ...over,
  });
}

describe('deceased-patient', () => {
  it('fires from the local day after the death, patient-level, with the policy severity and risk', () => {
    const [a, ...rest] = run('2026-03-11T00:05:00-04:00');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'deceased-patient',
      userId: 'clerk',
      patientId: 'p-dead',
      severity: 'medium',
      riskScore: 50,
    });
    expect(a!.explanation).toBe(
      'Maria Lopez accessed the record of a patient who died on 2026-03-10, 1 day earlier (action: view).',
    );
  });

  it('uses the tenant-local date, not the UTC date', () => {
    // 2026-03-11 02:00 UTC is still 2026-03-10 (the day of death) in New York.
    expect(run('2026-03-11T02:00:00Z')).toEqual([]);
    expect(run('2026-03-11T04:00:00Z')).toHaveLength(1);
  });

  it('near-miss: access on the day of death, late that evening, does not fire', () => {
    expect(run('2026-03-10T23:59:00-04:00')).toEqual([]);
  });

  it('near-miss: a living patient', () => {
    expect(run('2026-06-01T12:00:00-04:00', 'p-alive')).toEqual([]);
    expect(run('2026-06-01T12:00:00-04:00', 'p-unknown')).toEqual([]);
  });

  it('fires only after the policy grace days (default 30: billing and coding)', () => {
    expect(run('2026-04-09T12:00:00-04:00', 'p-dead', {})).toEqual([]); // 30 days after
    expect(run('2026-04-10T12:00:00-04:00', 'p-dead', {})[0]!.explanation).toMatch(/, 31 days earlier/);
  });

  it('near-miss: an exempt role (HIM finishing the record) never fires; the role comes from reference data', () => {
    const himExempt = { deceasedPatient: { graceDays: 0, exemptRoles: ['him'] } };
    expect(
      run('2026-03-20T12:00:00-04:00', 'p-dead', himExempt, { actor: { userId: 'him', role: 'registration' } }),
    ).toEqual([]);
    // A non-exempt member claiming the exempt role in the event is not exempt.
    expect(
      run('2026-03-20T12:00:00-04:00', 'p-dead', himExempt, { actor: { userId: 'clerk', role: 'him' } }),
    ).toHaveLength(1);
  });

  it('names a failed attempt, falls back to the user id, honours enabled, never copies free text', () => {
    expect(run('2026-03-20T12:00:00-04:00', 'p-dead', noGrace, { outcome: 'failure' })[0]!.explanation).toMatch(
      /^Maria Lopez tried to access /,
    );
    expect(
      run('2026-03-20T12:00:00-04:00', 'p-dead', noGrace, { actor: { userId: 'x9', name: 'free text <b>' } })[0]!
        .explanation,
    ).toMatch(/^User x9 accessed /);
    expect(run('2026-03-20T12:00:00-04:00', 'p-dead', { deceasedPatient: { enabled: false } })).toEqual([]);
    expect(run('2026-03-20T12:00:00-04:00')[0]!.explanation).not.toContain('free text');
  });
});
