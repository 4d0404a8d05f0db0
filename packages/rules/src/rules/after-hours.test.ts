import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import { createDetector } from '../engine.js';
import { parsePolicy, type PolicyInput } from '../policy.js';
import { createReferenceIndex, parseReferenceData, type ReferenceDataInput } from '../reference-data.js';
import { afterHoursRule } from './after-hours.js';

const ZONE = 'America/New_York';
const HOUR = 3_600_000;
const NIGHT = ['23:00-07:00'];
const basePolicy: PolicyInput = {
  timeZone: ZONE,
  shifts: { night: { mon: NIGHT, tue: NIGHT, wed: NIGHT, thu: NIGHT, fri: NIGHT, sat: NIGHT, sun: NIGHT } },
};
const member = (userId: string, extra: object = {}) => ({
  userId,
  givenName: 'Maria',
  familyName: 'Lopez',
  role: 'clerk',
  department: 'registration',
  status: 'active' as const,
  hiredAt: 0,
  ...extra,
});
const baseReference: ReferenceDataInput = {
  workforce: [
    member('clerk', { displayName: 'Maria Lopez' }),
    member('nurse', { displayName: 'Nurse Ng', role: 'rn', department: 'icu', shift: 'night' }),
    member('tech', { displayName: 'Tech Tan', role: 'lab-tech', department: 'lab' }),
  ],
};

/** New York wall clock (EST −5 before 2026-03-08 02:00, EDT −4 after, EST again from 2026-11-01 02:00) in UTC ms. */
const at = (utcIso: string): number => Date.parse(utcIso);

function run(
  events: { user: string; at: number; patient?: string; action?: AccessEvent['action'] }[],
  policy: PolicyInput = {},
  reference: ReferenceDataInput = {},
): Alert[] {
  const p = parsePolicy({ ...basePolicy, ...policy });
  const r = createReferenceIndex(
    parseReferenceData({
      ...baseReference,
      ...reference,
      workforce: [...(baseReference.workforce ?? []), ...(reference.workforce ?? [])],
    }),
  );
  const d = createDetector({ rules: [afterHoursRule], policyFor: () => p, referenceFor: () => r });
  const out: Alert[] = [];
  events.forEach((e, i) => {
    const action = e.action ?? (e.patient === undefined ? 'login' : 'view');
    out.push(
      ...d.process({
        eventId: `e${i}`,
        tenant: 't',
        occurredAt: e.at,
        receivedAt: e.at,
        source: { system: 'epic' },
        actor: { userId: e.user, name: 'free text <b>', role: 'rn' },
        ...(e.patient === undefined ? {} : { patient: { id: e.patient } }),
        action,
        resource: { type: 'chart' },
        outcome: 'success',
      }),
    );
  });
  const flushed = d.flush();
  return out.map((a) => flushed.find((f) => f.alertId === a.alertId) ?? a);
}

// Wednesday 2026-01-14, EST (UTC−5).
const WED_0200 = at('2026-01-14T07:00:00Z');

describe('after-hours', () => {
  it('fires for a day-shift user at 02:00, one user-level alert per day with every event as evidence', () => {
    const alerts = run([
      { user: 'clerk', at: WED_0200, patient: 'p1' },
      { user: 'clerk', at: WED_0200 + 10 * 60_000, patient: 'p2' },
    ]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ ruleId: 'after-hours', userId: 'clerk', severity: 'low', riskScore: 30 });
    expect(alerts[0]!.patientId).toBeUndefined();
    expect(alerts[0]!.evidence.map((e) => e.eventId)).toEqual(['e0', 'e1']);
    expect(alerts[0]!.explanation).toBe(
      'Maria Lopez accessed a patient record (action: view) at 02:00 on Wednesday (America/New_York), outside business hours.',
    );
  });

  it('fires for a login on a weekend, and names the shift when the user has one', () => {
    const sat = at('2026-01-17T17:00:00Z'); // Saturday 12:00 EST
    expect(run([{ user: 'clerk', at: sat }])[0]!.explanation).toBe(
      'Maria Lopez logged in at 12:00 on Saturday (America/New_York), outside business hours.',
    );
    expect(run([{ user: 'nurse', at: sat }])[0]!.explanation).toMatch(/outside business hours and their shift\.$/);
  });

  it('near-miss: a night-shift nurse at 02:00 is at work (own shift, department shift or role shift)', () => {
    expect(run([{ user: 'nurse', at: WED_0200, patient: 'p1' }])).toEqual([]);
    expect(run([{ user: 'tech', at: WED_0200, patient: 'p1' }])).toHaveLength(1);
    expect(run([{ user: 'tech', at: WED_0200, patient: 'p1' }], { departmentShifts: { lab: 'night' } })).toEqual([]);
    expect(run([{ user: 'tech', at: WED_0200, patient: 'p1' }], { roleShifts: { 'lab-tech': 'night' } })).toEqual([]);
  });

  it('near-miss: one minute inside the hours does not fire, one minute outside does (no grace)', () => {
    const noGrace = { afterHours: { graceMinutes: 0 } };
    const wed = (hhmm: string) => at(`2026-01-14T${hhmm}:00-05:00`);
    expect(run([{ user: 'clerk', at: wed('07:00') }], noGrace)).toEqual([]);
    expect(run([{ user: 'clerk', at: wed('18:59') }], noGrace)).toEqual([]);
    expect(run([{ user: 'clerk', at: wed('06:59') }], noGrace)).toHaveLength(1);
    expect(run([{ user: 'clerk', at: wed('19:00') }], noGrace)).toHaveLength(1);
  });

  it('counts the grace minutes either side of the hours as working', () => {
    const wed = (hhmm: string) => at(`2026-01-14T${hhmm}:00-05:00`);
    expect(run([{ user: 'clerk', at: wed('19:29') }])).toEqual([]);
    expect(run([{ user: 'clerk', at: wed('06:31') }])).toEqual([]);
    expect(run([{ user: 'clerk', at: wed('19:31') }])).toHaveLength(1);
    expect(run([{ user: 'clerk', at: wed('06:29') }])).toHaveLength(1);
  });

  it('is right across the spring-forward change (2026-03-08, 02:00 EST → 03:00 EDT)', () => {
    // Night shift from Saturday 23:00 EST: 06:50 EDT is 6h50 of wall clock but only 6h50−1h elapsed.
    expect(run([{ user: 'nurse', at: at('2026-03-08T06:50:00-04:00') }])).toEqual([]);
    // 07:45 EDT is 45 minutes past the shift; counting 8 elapsed hours from 23:00 EST would end it at 08:00.
    const [a] = run([{ user: 'nurse', at: at('2026-03-08T07:45:00-04:00') }]);
    expect(a!.explanation).toMatch(/ at 07:45 on Sunday /);
    expect(a!.day).toBe('2026-03-08');
    // The Monday after: 07:10 EDT is working hours (with the EST offset it would read 06:10), 19:40 EDT is not.
    expect(run([{ user: 'clerk', at: at('2026-03-09T07:10:00-04:00') }], { afterHours: { graceMinutes: 0 } })).toEqual(
      [],
    );
    expect(run([{ user: 'clerk', at: at('2026-03-09T19:40:00-04:00') }])[0]!.explanation).toMatch(
      / at 19:40 on Monday /,
    );
  });

  it('is right across the fall-back change (2026-11-01): both 01:30s are 01:30', () => {
    const alerts = run([
      { user: 'clerk', at: at('2026-11-01T01:30:00-04:00') },
      { user: 'tech', at: at('2026-11-01T01:30:00-05:00') },
    ]);
    expect(alerts.map((a) => a.explanation.match(/ at (\S+) on (\w+)/)?.slice(1))).toEqual([
      ['01:30', 'Sunday'],
      ['01:30', 'Sunday'],
    ]);
    // The Monday after: 06:20 EST fires (with the EDT offset it would read 07:20 and stay silent).
    expect(run([{ user: 'clerk', at: at('2026-11-02T06:20:00-05:00') }])).toHaveLength(1);
  });

  it('fires at lower risk for a user without a workforce record, judged by business hours alone', () => {
    const [a] = run([{ user: 'ghost', at: WED_0200, patient: 'p1' }], { afterHours: { severity: 'medium' } });
    expect(a).toMatchObject({ severity: 'low', riskScore: 15 });
    expect(a!.explanation).toBe(
      'User ghost accessed a patient record (action: view) at 02:00 on Wednesday (America/New_York), outside business hours; the user has no workforce record, so no shift could be checked.',
    );
    expect(run([{ user: 'ghost', at: at('2026-01-14T12:00:00-05:00') }])).toEqual([]);
  });

  it('a treatment relationship lowers the alert and is named; with "suppress" it drops it', () => {
    const relationships = [
      { patientId: 'p1', userId: 'clerk', kind: 'appointment' as const, validFrom: 0, validTo: WED_0200 + HOUR },
      {
        patientId: 'p2',
        departmentId: 'registration',
        kind: 'care_team' as const,
        validFrom: 0,
        validTo: WED_0200 + HOUR,
      },
    ];
    const [a] = run(
      [{ user: 'clerk', at: WED_0200, patient: 'p1' }],
      { afterHours: { severity: 'medium' } },
      { relationships },
    );
    expect(a).toMatchObject({ severity: 'low', riskScore: 15 });
    expect(a!.explanation).toMatch(/ Lowered: they have a current appointment relationship with the patient\.$/);
    expect(run([{ user: 'clerk', at: WED_0200, patient: 'p2' }], {}, { relationships })[0]!.explanation).toMatch(
      /their department has a current care team relationship/,
    );
    expect(
      run(
        [{ user: 'clerk', at: WED_0200, patient: 'p1' }],
        { afterHours: { withRelationship: 'suppress' } },
        { relationships },
      ),
    ).toEqual([]);
    // An expired relationship explains nothing.
    expect(run([{ user: 'clerk', at: WED_0200 + 2 * HOUR, patient: 'p1' }], {}, { relationships })[0]!.riskScore).toBe(
      30,
    );
  });

  it('honours exempt roles and the enabled switch, and never copies free-text event fields', () => {
    expect(run([{ user: 'clerk', at: WED_0200 }], { afterHours: { exemptRoles: ['clerk'] } })).toEqual([]);
    expect(run([{ user: 'clerk', at: WED_0200 }], { afterHours: { enabled: false } })).toEqual([]);
    // The event's free-text role claims 'rn'; exemptions use the reference-data role only.
    expect(run([{ user: 'clerk', at: WED_0200 }], { afterHours: { exemptRoles: ['rn'] } })).toHaveLength(1);
    expect(run([{ user: 'clerk', at: WED_0200 }])[0]!.explanation).not.toContain('free text');
  });
});
