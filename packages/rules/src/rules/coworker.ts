import type { Severity } from '../alert.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import {
  actorDid,
  departmentOf,
  findTreatmentRelationship,
  isExempt,
  type TreatmentReference,
} from './no-treatment-relationship.js';
import { describeRelationship, lowerSeverity } from './household.js';

export interface CoworkerReference extends TreatmentReference {
  /** The workforce user a patient is, when the patient is a member of the workforce. */
  workforceUserIdOfPatient(patientId: string): string | undefined;
}

export interface CoworkerPolicy {
  readonly coworker: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    readonly sameDepartmentOnly: boolean;
    readonly withRelationship: 'suppress' | 'lower';
  };
}

export const COWORKER_RULE_ID = 'coworker';

/**
 * Fires on any access (failed attempts too) to the record of a patient who is, by reference
 * data, a workforce member other than the user (the user's own record is self-access). With
 * `sameDepartmentOnly` only coworkers of the user's own department count. A treatment
 * relationship of the user or their department valid at the event time explains the access:
 * per `withRelationship` the alert is dropped, or kept one severity lower at half the risk.
 */
export const coworkerRule: Rule<CoworkerPolicy, CoworkerReference> = {
  id: COWORKER_RULE_ID,
  enabled: (policy) => policy.coworker.enabled,
  evaluate({ event, policy, reference }) {
    const patientId = event.patient?.id;
    if (patientId === undefined) return NO_FINDINGS;
    const coworkerId = reference.workforceUserIdOfPatient(patientId);
    if (coworkerId === undefined || coworkerId === event.actor.userId) return NO_FINDINGS;
    const section = policy.coworker;
    if (isExempt(reference, event, section.exemptRoles)) return NO_FINDINGS;
    const coworkerDepartment = reference.member(coworkerId)?.department;
    const sameDepartment = coworkerDepartment !== undefined && coworkerDepartment === departmentOf(reference, event);
    if (section.sameDepartmentOnly && !sameDepartment) return NO_FINDINGS;
    const where = sameDepartment
      ? 'in their own department'
      : coworkerDepartment === undefined
        ? 'on the workforce'
        : `in the ${coworkerDepartment} department`;
    const what = `${actorDid(reference, event)} the record of a patient who is a coworker ${where}`;
    const found = findTreatmentRelationship(reference, event, patientId);
    if (found === undefined) {
      return [{ severity: section.severity, riskScore: section.riskScore, explanation: `${what}.`, patientId }];
    }
    if (section.withRelationship === 'suppress') return NO_FINDINGS;
    return [
      {
        severity: lowerSeverity(section.severity),
        riskScore: section.riskScore / 2,
        explanation: `${what}; risk lowered because ${describeRelationship(found)}.`,
        patientId,
      },
    ];
  },
};
