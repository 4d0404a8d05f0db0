import type { Severity } from '../alert.js';
import { localWeekMinute, isWithinWorkingHours, WEEKDAYS } from '../business-hours.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import { shiftOf, type Policy } from '../policy.js';
import type { ReferenceIndex } from '../reference-data.js';
import { lowerSeverity } from './household.js';

/** The reference lookups after-hours needs. */
export type AfterHoursReference = Pick<
  ReferenceIndex,
  'member' | 'displayNameOfUser' | 'userRelationships' | 'departmentRelationships'
>;

/** After-hours reads the zone, business hours and shifts besides its own section (shiftOf takes the whole policy). */
export type AfterHoursPolicy = Policy;

export const AFTER_HOURS_RULE_ID = 'after-hours';

const MINUTE_MS = 60_000;

/**
 * Fires when a user logs in or opens a record outside their working hours: the tenant's business
 * hours or the member's shift (their own, else their department's, else their role's), evaluated
 * on the local wall clock of the tenant's zone so DST days are right. Events within
 * `graceMinutes` of working hours count as working (staying late, logging in early).
 *
 * One alert per user and day (no patient): a night of browsing is one alert with every event as
 * evidence, not one per chart.
 *
 * A user with no workforce record is judged against business hours alone and fires one severity
 * lower at half the risk score: the access is still outside every working hour the facility
 * has, but without a record no shift could be checked, so the alert says so instead of staying
 * silent. A treatment relationship of the user or their department with the patient at event
 * time lowers or suppresses the alert (`withRelationship`), and names the relationship.
 */
export const afterHoursRule: Rule<AfterHoursPolicy, AfterHoursReference> = {
  id: AFTER_HOURS_RULE_ID,
  enabled: (policy) => policy.afterHours.enabled,
  evaluate({ event, policy, reference }) {
    const settings = policy.afterHours;
    const userId = event.actor.userId;
    const member = reference.member(userId);
    if (member !== undefined && settings.exemptRoles.includes(member.role)) return NO_FINDINGS;

    const hours = {
      timeZone: policy.timeZone,
      hours: policy.businessHours,
      shift: member === undefined ? undefined : shiftOf(policy, member),
    };
    const at = event.occurredAt;
    const graceMs = settings.graceMinutes * MINUTE_MS;
    // Grace is elapsed time either side, so it is right across DST too. A working range shorter
    // than twice the grace can fall between the probes; that errs towards firing, never silence.
    if (
      isWithinWorkingHours(at, hours) ||
      (graceMs > 0 && (isWithinWorkingHours(at - graceMs, hours) || isWithinWorkingHours(at + graceMs, hours)))
    ) {
      return NO_FINDINGS;
    }

    let severity: Severity = settings.severity;
    let riskScore = settings.riskScore;
    const who = reference.displayNameOfUser(userId) ?? `User ${userId}`;
    const failed = event.outcome === 'failure';
    const what =
      event.action === 'login'
        ? failed
          ? 'tried to log in'
          : 'logged in'
        : `${failed ? 'tried to access' : 'accessed'} a patient record (action: ${event.action})`;
    const { weekday, minute } = localWeekMinute(at, policy.timeZone);
    const when = `at ${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)} on ${WEEKDAY_NAMES[WEEKDAYS[weekday] ?? 'sun']} (${policy.timeZone})`;
    let why: string;
    if (member === undefined) {
      [severity, riskScore] = [lowerSeverity(severity), riskScore / 2];
      why = 'outside business hours; the user has no workforce record, so no shift could be checked';
    } else {
      why = hours.shift === undefined ? 'outside business hours' : 'outside business hours and their shift';
    }

    let relationship = '';
    const patientId = event.patient?.id;
    if (patientId !== undefined && member !== undefined) {
      const rel =
        reference.userRelationships(patientId, userId, at)[0] ??
        reference.departmentRelationships(patientId, member.department, at)[0];
      if (rel !== undefined) {
        if (settings.withRelationship === 'suppress') return NO_FINDINGS;
        [severity, riskScore] = [lowerSeverity(severity), riskScore / 2];
        const whose = rel.userId === undefined ? 'their department has' : 'they have';
        relationship = ` Lowered: ${whose} a current ${rel.kind.replace('_', ' ')} relationship with the patient.`;
      }
    }
    return [{ severity, riskScore, explanation: `${who} ${what} ${when}, ${why}.${relationship}` }];
  },
};

const WEEKDAY_NAMES: Record<(typeof WEEKDAYS)[number], string> = {
  sun: 'Sunday',
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
};

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}
