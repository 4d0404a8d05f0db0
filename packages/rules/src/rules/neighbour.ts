import type { Severity } from '../alert.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import {
  describeRelationship,
  explainingRelationship,
  householdPair,
  type HouseholdReference,
  keysShareAddress,
  keysShareStreet,
  lowerSeverity,
} from './household.js';

/** The reference lookups the neighbour rule needs (the reference index provides them). */
export type NeighbourReference = HouseholdReference;

export interface NeighbourPolicy {
  readonly neighbour: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    readonly withRelationship: 'suppress' | 'lower';
  };
}

export const NEIGHBOUR_RULE_ID = 'neighbour';

/**
 * Fires when a user opens the record of a patient who lives on the same street in the same postal
 * code but not in the same household (that is the family rule's case, whatever the surnames).
 * Post-office boxes and addresses without a house number never count as a street, and a missing
 * address on either side never fires. A treatment relationship of the user or their department
 * at event time suppresses the finding or lowers it, as the policy says.
 */
export const neighbourRule: Rule<NeighbourPolicy, NeighbourReference> = {
  id: NEIGHBOUR_RULE_ID,
  enabled: (policy) => policy.neighbour.enabled,
  evaluate({ event, policy, reference }) {
    const pair = householdPair(event, reference);
    if (pair === undefined) return NO_FINDINGS;
    const { patient, member, p, m } = pair;
    const userId = event.actor.userId;
    const patientId = patient.id;
    if (!keysShareStreet(p, m) || keysShareAddress(p, m)) return NO_FINDINGS;
    const settings = policy.neighbour;
    if (settings.exemptRoles.includes(member.role)) return NO_FINDINGS;

    const found = explainingRelationship(reference, patientId, member, event.occurredAt);
    if (found !== undefined && settings.withRelationship === 'suppress') return NO_FINDINGS;
    const who = reference.displayNameOfUser(userId) ?? `User ${userId}`;
    const verb = event.outcome === 'failure' ? 'tried to access' : 'accessed';
    let severity = settings.severity;
    let riskScore = settings.riskScore;
    let explanation = `${who} ${verb} the record of a patient who lives on their street, in another household (action: ${event.action}).`;
    if (found !== undefined) {
      severity = lowerSeverity(severity);
      riskScore /= 2;
      explanation += ` Lowered: ${describeRelationship(found)}.`;
    }
    return [{ severity, riskScore, explanation, patientId }];
  },
};
