import type { Severity } from '../alert.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import {
  describeRelationship,
  explainingRelationship,
  householdPair,
  type HouseholdReference,
  keysShareAddress,
  keysShareSurname,
  lowerSeverity,
} from './household.js';

/** The reference lookups the family rule needs (the reference index provides them). */
export type FamilyReference = HouseholdReference;

export interface FamilyPolicy {
  readonly family: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    readonly householdWithoutSurname: boolean;
    readonly withRelationship: 'suppress' | 'lower';
  };
}

export const FAMILY_RULE_ID = 'family';

/**
 * Fires when a user opens the record of someone in their own household: the patient shares the
 * user's surname and address (both normalised, see identity-match.ts). Surname alone never fires:
 * common surnames would drown the officer. With `householdWithoutSurname` the policy also flags a
 * patient at the user's address under another surname (a spouse who kept their name), one
 * severity lower and at half the risk, since a shared address alone is weaker evidence of
 * family. The user's own record is self-access, not family. A treatment relationship of the user
 * or their department at event time suppresses the finding or lowers it, as the policy says.
 * Failed attempts fire too: trying is the concern.
 */
export const familyRule: Rule<FamilyPolicy, FamilyReference> = {
  id: FAMILY_RULE_ID,
  enabled: (policy) => policy.family.enabled,
  evaluate({ event, policy, reference }) {
    const pair = householdPair(event, reference);
    if (pair === undefined) return NO_FINDINGS;
    const { patient, member, p, m } = pair;
    const userId = event.actor.userId;
    const patientId = patient.id;
    const settings = policy.family;
    if (!keysShareAddress(p, m)) return NO_FINDINGS;
    const surname = keysShareSurname(p, m);
    if (!surname && !settings.householdWithoutSurname) return NO_FINDINGS;
    if (settings.exemptRoles.includes(member.role)) return NO_FINDINGS;

    let severity = settings.severity;
    let riskScore = settings.riskScore;
    if (!surname) {
      severity = lowerSeverity(severity);
      riskScore /= 2;
    }
    const found = explainingRelationship(reference, patientId, member, event.occurredAt);
    if (found !== undefined && settings.withRelationship === 'suppress') return NO_FINDINGS;
    const who = reference.displayNameOfUser(userId) ?? `User ${userId}`;
    const verb = event.outcome === 'failure' ? 'tried to access' : 'accessed';
    const shares = surname ? 'shares their surname and address' : 'lives at their address under another surname';
    let explanation = `${who} ${verb} the record of a patient who ${shares} (action: ${event.action}).`;
    if (found !== undefined) {
      severity = lowerSeverity(severity);
      riskScore /= 2;
      explanation += ` Lowered: ${describeRelationship(found)}.`;
    }
    return [{ severity, riskScore, explanation, patientId }];
  },
};
