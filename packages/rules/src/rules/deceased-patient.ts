import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import type { Policy } from '../policy.js';
import type { ReferenceIndex } from '../reference-data.js';

/** The reference lookups deceased-patient needs. */
export type DeceasedPatientReference = Pick<ReferenceIndex, 'patient' | 'member' | 'displayNameOfUser'>;

export type DeceasedPatientPolicy = Pick<Policy, 'deceasedPatient'>;

export const DECEASED_PATIENT_RULE_ID = 'deceased-patient';

const DAY_MS = 86_400_000;

/**
 * Fires when a user opens the record of a patient who died more than `graceDays` before the
 * event's local date in the tenant's zone (with `graceDays: 0`, from the day after the death).
 * Access on the day of death never fires: a date of death has no time, and that day's care,
 * pronouncement and documentation are expected. Roles in `exemptRoles` (HIM clerks and billing
 * finishing the record, records requests) never fire; the member's role comes from reference
 * data, never from the event.
 */
export const deceasedPatientRule: Rule<DeceasedPatientPolicy, DeceasedPatientReference> = {
  id: DECEASED_PATIENT_RULE_ID,
  enabled: (policy) => policy.deceasedPatient.enabled,
  evaluate({ event, policy, reference, window }) {
    const patientId = event.patient?.id;
    if (patientId === undefined) return NO_FINDINGS;
    const deathDate = reference.patient(patientId)?.deathDate;
    if (deathDate === undefined) return NO_FINDINGS;
    const settings = policy.deceasedPatient;
    const userId = event.actor.userId;
    const role = reference.member(userId)?.role;
    if (role !== undefined && settings.exemptRoles.includes(role)) return NO_FINDINGS;
    // Both are local calendar dates (YYYY-MM-DD); as UTC midnights their difference is whole days.
    const daysAfter = Math.round((Date.parse(window.day.key) - Date.parse(deathDate)) / DAY_MS);
    if (!(daysAfter > settings.graceDays)) return NO_FINDINGS;
    const who = reference.displayNameOfUser(userId) ?? `User ${userId}`;
    const verb = event.outcome === 'failure' ? 'tried to access' : 'accessed';
    return [
      {
        severity: settings.severity,
        riskScore: settings.riskScore,
        explanation: `${who} ${verb} the record of a patient who died on ${deathDate}, ${daysAfter} ${daysAfter === 1 ? 'day' : 'days'} earlier (action: ${event.action}).`,
        patientId,
      },
    ];
  },
};
