import type { AccessEvent, Action } from '@phi-audit/schema';
import type { Severity } from '../alert.js';
import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import { explainingRelationship, type TreatmentLookup } from './household.js';

/**
 * The reference lookups the relationship rules need (vip-confidential, coworker, no treatment
 * relationship, break-the-glass); the reference index provides them.
 */
export interface TreatmentReference extends TreatmentLookup {
  /** The workforce record of a user: their role and department. */
  member(userId: string): { readonly role: string; readonly department: string } | undefined;
  /** A display name from workforce reference data, for explanations. */
  displayNameOfUser(userId: string): string | undefined;
}

/** A treatment relationship that explains an access (household.ts's shape, so its describeRelationship names it). */
export type FoundRelationship = NonNullable<ReturnType<typeof explainingRelationship>>;

/**
 * The department of the acting user: from workforce reference data, else the one the source
 * system reported on the event (a user missing from reference data still has one there).
 */
export function departmentOf(reference: TreatmentReference, event: AccessEvent): string | undefined {
  return reference.member(event.actor.userId)?.department ?? event.actor.department;
}

/** The role of the acting user, from reference data first, for `exemptRoles`. */
export function roleOf(reference: TreatmentReference, event: AccessEvent): string | undefined {
  return reference.member(event.actor.userId)?.role ?? event.actor.role;
}

/** Whether the acting user's role is one the rule's policy exempts. */
export function isExempt(reference: TreatmentReference, event: AccessEvent, exemptRoles: readonly string[]): boolean {
  if (exemptRoles.length === 0) return false;
  const role = roleOf(reference, event);
  return role !== undefined && exemptRoles.includes(role);
}

/**
 * The relationship between the event's patient and its user (or, with `departments`, the user's
 * department) valid at the event's time, if any; the user's own wins. household.ts's lookup,
 * extended to users missing from reference data (their department from the event, if any) and
 * to policies that ignore department relationships.
 */
export function findTreatmentRelationship(
  reference: TreatmentReference,
  event: AccessEvent,
  patientId: string,
  departments = true,
): FoundRelationship | undefined {
  const userId = event.actor.userId;
  const department = departments ? departmentOf(reference, event) : undefined;
  if (department !== undefined) {
    return explainingRelationship(reference, patientId, { userId, department }, event.occurredAt);
  }
  const own = reference.userRelationships(patientId, userId, event.occurredAt)[0];
  return own === undefined ? undefined : { relationship: own, via: 'user' };
}

const HIGHER: Record<Severity, Severity> = { low: 'medium', medium: 'high', high: 'critical', critical: 'critical' };

/** One severity level up (critical stays critical). */
export function raiseSeverity(severity: Severity): Severity {
  return HIGHER[severity];
}

const VERBS: Record<Action, [done: string, tried: string]> = {
  view: ['viewed', 'tried to view'],
  create: ['added to', 'tried to add to'],
  update: ['updated', 'tried to update'],
  delete: ['deleted from', 'tried to delete from'],
  print: ['printed', 'tried to print'],
  export: ['exported', 'tried to export'],
  query: ['queried', 'tried to query'],
  login: ['logged in to', 'tried to log in to'],
  break_glass: ['used break-the-glass to open', 'tried to use break-the-glass to open'],
};

/** "Dr. Maria Lopez viewed" / "User u1 tried to update": who did what, from reference data. */
export function actorDid(reference: TreatmentReference, event: AccessEvent): string {
  const who = reference.displayNameOfUser(event.actor.userId) ?? `User ${event.actor.userId}`;
  return `${who} ${VERBS[event.action][event.outcome === 'failure' ? 1 : 0]}`;
}

export interface NoTreatmentRelationshipPolicy {
  readonly noTreatmentRelationship: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    readonly departmentRelationships: boolean;
  };
}

export interface NoTreatmentRelationshipReference extends TreatmentReference {
  /** The workforce user a patient is, if any: a user's own record is left to self-access. */
  workforceUserIdOfPatient(patientId: string): string | undefined;
}

export const NO_TREATMENT_RELATIONSHIP_RULE_ID = 'no-treatment-relationship';

/**
 * Actions that open one patient's record. Not `login` (no patient), not `query` (a search
 * result is not an opened record, and bulk-read watches volume), not `break_glass` (the
 * break-the-glass rule reviews every one and weighs a missing relationship itself).
 */
const CLINICAL_ACTIONS: ReadonlySet<Action> = new Set<Action>([
  'view',
  'create',
  'update',
  'delete',
  'print',
  'export',
]);

/**
 * Fires when a user successfully opens a patient's record while neither they nor (per policy)
 * their department has a treatment relationship with the patient valid at the event time.
 * Roles whose work needs no relationship (billing, HIM) are listed by the tenant in
 * `exemptRoles`. A user's own record is self-access's concern, so it is left to that rule.
 */
export const noTreatmentRelationshipRule: Rule<NoTreatmentRelationshipPolicy, NoTreatmentRelationshipReference> = {
  id: NO_TREATMENT_RELATIONSHIP_RULE_ID,
  enabled: (policy) => policy.noTreatmentRelationship.enabled,
  evaluate({ event, policy, reference }) {
    const patientId = event.patient?.id;
    const section = policy.noTreatmentRelationship;
    if (patientId === undefined || event.outcome === 'failure' || !CLINICAL_ACTIONS.has(event.action)) {
      return NO_FINDINGS;
    }
    if (reference.workforceUserIdOfPatient(patientId) === event.actor.userId) return NO_FINDINGS;
    if (isExempt(reference, event, section.exemptRoles)) return NO_FINDINGS;
    if (findTreatmentRelationship(reference, event, patientId, section.departmentRelationships) !== undefined) {
      return NO_FINDINGS;
    }
    const tail = section.departmentRelationships
      ? 'neither they nor their department had a treatment relationship with the patient at the time'
      : 'they had no treatment relationship with the patient at the time';
    return [
      {
        severity: section.severity,
        riskScore: section.riskScore,
        explanation: `${actorDid(reference, event)} the record of a patient, but ${tail}.`,
        patientId,
      },
    ];
  },
};
