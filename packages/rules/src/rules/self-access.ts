import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';

/** The reference lookups self-access needs (the reference-data module provides them). */
export interface SelfAccessReference {
  /** The workforce user a patient is, when the patient is a member of the workforce. */
  workforceUserIdOfPatient(patientId: string): string | undefined;
  /** A display name from workforce reference data, for the explanation. */
  displayNameOfUser?(userId: string): string | undefined;
}

export interface SelfAccessPolicy {
  readonly selfAccess?: { readonly enabled: boolean };
}

export const SELF_ACCESS_RULE_ID = 'self-access';

/**
 * Fires when a user opens their own record: the event's patient is, by reference data, the
 * workforce member who acted. Failed attempts fire too (trying is the concern), at lower risk.
 */
export const selfAccessRule: Rule<SelfAccessPolicy, SelfAccessReference> = {
  id: SELF_ACCESS_RULE_ID,
  enabled: (policy) => policy.selfAccess?.enabled ?? true,
  evaluate({ event, reference }) {
    const patientId = event.patient?.id;
    if (patientId === undefined) return NO_FINDINGS;
    const userId = event.actor.userId;
    if (reference.workforceUserIdOfPatient(patientId) !== userId) return NO_FINDINGS;
    const who = reference.displayNameOfUser?.(userId) ?? `User ${userId}`;
    const failed = event.outcome === 'failure';
    return [
      {
        severity: 'medium',
        riskScore: failed ? 40 : 60,
        explanation: `${who} ${failed ? 'tried to access' : 'accessed'} their own patient record (action: ${event.action}).`,
        patientId,
      },
    ];
  },
};
