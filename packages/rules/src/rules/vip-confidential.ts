import type { Severity } from '../alert.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import { actorDid, findTreatmentRelationship, isExempt, type TreatmentReference } from './no-treatment-relationship.js';
import { describeRelationship, lowerSeverity } from './household.js';

export interface VipConfidentialReference extends TreatmentReference {
  patient(id: string): { readonly vip: boolean; readonly confidential: boolean } | undefined;
}

export interface VipConfidentialPolicy {
  readonly vipConfidential: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    readonly withRelationship: 'suppress' | 'lower';
  };
}

export const VIP_CONFIDENTIAL_RULE_ID = 'vip-confidential';

/** "a VIP patient", "a patient with a confidential record", or both. */
export function flaggedPatient(p: { readonly vip: boolean; readonly confidential: boolean }): string {
  if (p.vip && p.confidential) return 'a VIP patient with a confidential record';
  return p.vip ? 'a VIP patient' : 'a patient with a confidential record';
}

/**
 * Fires on any access (failed attempts too: trying is the concern) to the record of a patient
 * flagged VIP or confidential in reference data. A treatment relationship of the user or their
 * department valid at the event time explains the access: per `withRelationship` the alert is
 * dropped, or kept one severity lower at half the risk with the relationship named.
 */
export const vipConfidentialRule: Rule<VipConfidentialPolicy, VipConfidentialReference> = {
  id: VIP_CONFIDENTIAL_RULE_ID,
  enabled: (policy) => policy.vipConfidential.enabled,
  evaluate({ event, policy, reference }) {
    const patientId = event.patient?.id;
    if (patientId === undefined) return NO_FINDINGS;
    const patient = reference.patient(patientId);
    if (patient === undefined || !(patient.vip || patient.confidential)) return NO_FINDINGS;
    const section = policy.vipConfidential;
    if (isExempt(reference, event, section.exemptRoles)) return NO_FINDINGS;
    const what = `${actorDid(reference, event)} the record of ${flaggedPatient(patient)}`;
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
