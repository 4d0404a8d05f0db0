import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../policy.js';
import { accessEvent, runRule } from '../testing/run-rule.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { breakTheGlassRule } from './break-the-glass.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0);
const REASON = 'Patient unconscious in ED <script>';
const reference = createReferenceIndex(
  parseReferenceData({
    patients: [
      { id: 'p1', givenName: 'Pat', familyName: 'One', birthDate: '1980-01-01' },
      { id: 'p-star', givenName: 'Famous', familyName: 'Person', birthDate: '1980-01-01', vip: true },
    ],
    workforce: [
      {
        userId: 'doc',
        givenName: 'Dana',
        familyName: 'Doc',
        displayName: 'Dr. Dana Doc',
        role: 'physician',
        department: 'ed',
        status: 'active',
        hiredAt: 0,
      },
    ],
    relationships: [
      { patientId: 'p1', departmentId: 'ed', kind: 'encounter', validFrom: T0 - HOUR, validTo: T0 + HOUR },
    ],
  }),
);

function run(patient: string, over: Partial<AccessEvent> = {}, policy: PolicyInput = {}) {
  const event = accessEvent(T0, 'doc', patient, { action: 'break_glass', reason: REASON, ...over });
  return runRule(breakTheGlassRule, reference, event, policy);
}

describe('break-the-glass', () => {
  it('by default does not queue an explained use: a reason given and a current relationship', () => {
    expect(run('p1')).toEqual([]);
    expect(run('p1', { outcome: 'failure' })).toEqual([]);
    // Either missing still fires: no relationship, or no real reason.
    expect(run('p1', { occurredAt: T0 + HOUR })).toHaveLength(1);
    expect(run('p1', { reason: 'ok' })).toHaveLength(1);
    expect(run('p1', { reason: undefined })).toHaveLength(1);
  });

  it('with reviewExplained queues every use, saying a reason was given without copying it', () => {
    const [a, ...rest] = run('p1', {}, { breakTheGlass: { reviewExplained: true } });
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      ruleId: 'break-the-glass',
      userId: 'doc',
      patientId: 'p1',
      severity: 'medium',
      riskScore: 55,
    });
    expect(a!.explanation).toBe(
      'Dr. Dana Doc used break-the-glass to open the record of a patient; a reason was given; an encounter with their department (ed) is current.',
    );
    expect(a!.explanation).not.toContain('unconscious');
  });

  it('says no reason was given for a missing, blank or too short reason, at higher risk', () => {
    for (const reason of [undefined, '   ', 'x']) {
      const [a] = run('p1', reason === undefined ? { reason: undefined } : { reason });
      expect(a).toMatchObject({ severity: 'medium', riskScore: 65 });
      expect(a!.explanation).toContain('; no reason was given;');
    }
  });

  it('raises severity and risk without a treatment relationship', () => {
    const [a] = run('p1', { occurredAt: T0 + HOUR });
    expect(a).toMatchObject({ severity: 'high', riskScore: 75 });
    expect(a!.explanation).toContain('neither they nor their department had a treatment relationship');
  });

  it('raises severity and risk for a VIP patient, and more when there is also no relationship', () => {
    const [a] = run('p-star');
    expect(a).toMatchObject({ severity: 'critical', riskScore: 95 });
    expect(a!.explanation).toMatch(/the record of a VIP patient;/);
  });

  it('reviews a failed attempt too', () => {
    expect(run('p1', { outcome: 'failure', occurredAt: T0 + HOUR })[0]!.explanation).toMatch(
      /^Dr. Dana Doc tried to use break-the-glass/,
    );
  });

  it('does not fire on an ordinary view, even of a VIP without a relationship', () => {
    expect(run('p1', { action: 'view' })).toEqual([]);
    expect(run('p-star', { action: 'view' })).toEqual([]);
  });

  it('takes severity and risk from the policy section, and can be disabled', () => {
    expect(
      run('p1', {}, { breakTheGlass: { severity: 'high', riskScore: 30, reviewExplained: true } })[0],
    ).toMatchObject({
      severity: 'high',
      riskScore: 30,
    });
    expect(run('p1', { occurredAt: T0 + HOUR }, { breakTheGlass: { enabled: false } })).toEqual([]);
  });
});
