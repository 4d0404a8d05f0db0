import type { Severity } from '../alert.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import {
  actorDid,
  findTreatmentRelationship,
  isExempt,
  raiseSeverity,
  type TreatmentReference,
} from './no-treatment-relationship.js';
import { describeRelationship } from './household.js';
import { flaggedPatient } from './vip-confidential.js';

export interface BreakTheGlassReference extends TreatmentReference {
  patient(id: string): { readonly vip: boolean; readonly confidential: boolean } | undefined;
}

export interface BreakTheGlassPolicy {
  readonly breakTheGlass: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    readonly minReasonLength: number;
    /** Review uses with a reason and a current relationship too (absent = false). */
    readonly reviewExplained?: boolean;
  };
}

export const BREAK_THE_GLASS_RULE_ID = 'break-the-glass';

/** Risk added for each aggravating fact; each of the first two also raises the severity one level. */
export const BREAK_THE_GLASS_RISK = { noRelationship: 20, flaggedPatient: 20, noReason: 10 } as const;

/**
 * Queues break-the-glass accesses (failed attempts too) for review. The reason is free text and
 * never copied: the explanation only says whether one was given (at least `minReasonLength`
 * characters after trimming). A use that explains itself — a reason given, and the user or their
 * department with a treatment relationship with the patient at the time — is the routine
 * emergency case and is not queued unless the policy sets `reviewExplained`; misuse (no
 * relationship, or no real reason) always is. Risk and severity go up when there was no
 * relationship and when the patient is VIP or confidential; risk also goes up when no reason
 * was given.
 */
export const breakTheGlassRule: Rule<BreakTheGlassPolicy, BreakTheGlassReference> = {
  id: BREAK_THE_GLASS_RULE_ID,
  enabled: (policy) => policy.breakTheGlass.enabled,
  evaluate({ event, policy, reference }) {
    const patientId = event.patient?.id;
    if (event.action !== 'break_glass' || patientId === undefined) return NO_FINDINGS;
    const section = policy.breakTheGlass;
    if (isExempt(reference, event, section.exemptRoles)) return NO_FINDINGS;
    let severity = section.severity;
    let riskScore = section.riskScore;
    const facts: string[] = [];
    const patient = reference.patient(patientId);
    const flagged = patient !== undefined && (patient.vip || patient.confidential);
    const subject = flagged ? flaggedPatient(patient) : 'a patient';
    const reasonGiven = (event.reason?.trim().length ?? 0) >= Math.max(1, section.minReasonLength);
    facts.push(reasonGiven ? 'a reason was given' : 'no reason was given');
    const found = findTreatmentRelationship(reference, event, patientId);
    if (found !== undefined && reasonGiven && section.reviewExplained !== true) return NO_FINDINGS;
    if (found === undefined) {
      facts.push('neither they nor their department had a treatment relationship with the patient at the time');
      severity = raiseSeverity(severity);
      riskScore += BREAK_THE_GLASS_RISK.noRelationship;
    } else {
      facts.push(describeRelationship(found));
    }
    if (flagged) {
      severity = raiseSeverity(severity);
      riskScore += BREAK_THE_GLASS_RISK.flaggedPatient;
    }
    if (!reasonGiven) riskScore += BREAK_THE_GLASS_RISK.noReason;
    return [
      {
        severity,
        riskScore: Math.min(100, riskScore),
        explanation: `${actorDid(reference, event)} the record of ${subject}; ${facts.join('; ')}.`,
        patientId,
      },
    ];
  },
};
