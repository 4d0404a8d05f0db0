import type { AccessEvent } from '@phi-audit/schema';
import type { Severity } from '../alert.js';
import { parseAddress, surnameParts } from '../identity-match.js';
import type { Address, Patient, TreatmentRelationship, WorkforceMember } from '../reference-data.js';

/**
 * What the family and neighbour rules share: surnames and addresses normalised once per
 * reference record, and how a treatment relationship lowers or suppresses their findings.
 *
 * identity-match.ts parses both sides on every comparison, which costs several regex passes per
 * event. Reference records are frozen and live as long as their index, so the normalised form is
 * cached by object identity in a WeakMap: a reloaded index is parsed afresh, a dropped one is
 * collected. The comparisons below are identity-match's, applied to the cached parts; the tests
 * check they agree with sameSurname, sameAddress and areNeighbours.
 */

/** A person's surname and address, normalised for comparison. */
export interface HouseholdKeys {
  /** Significant surname parts ("García-López" → garcia, lopez). */
  readonly surnameParts: readonly string[];
  /** The parts joined, for the common equal-surname case. */
  readonly surname: string;
  /** Postal code and street without spaces; undefined for PO boxes and addresses without a house number. */
  readonly street: string | undefined;
  readonly houseNumber: string | undefined;
  readonly unit: string | undefined;
}

const cache = new WeakMap<object, HouseholdKeys>();

/** The normalised keys of a patient or workforce record, computed on first use and cached. */
export function householdKeys(record: {
  readonly familyName: string;
  readonly address?: Address | undefined;
}): HouseholdKeys {
  let keys = cache.get(record);
  if (keys === undefined) {
    const parts = surnameParts(record.familyName);
    const parsed = record.address === undefined ? undefined : parseAddress(record.address);
    const street =
      parsed === undefined || parsed.houseNumber === undefined || parsed.street === '' || parsed.postalCode === ''
        ? undefined
        : `${parsed.postalCode}|${parsed.street.replaceAll(' ', '')}`;
    keys = Object.freeze({
      surnameParts: Object.freeze(parts),
      surname: parts.join(''),
      street,
      houseNumber: parsed?.houseNumber,
      unit: parsed?.unit,
    });
    cache.set(record, keys);
  }
  return keys;
}

/** identity-match's sameSurname over cached parts. */
export function keysShareSurname(a: HouseholdKeys, b: HouseholdKeys): boolean {
  if (a.surname === '' || b.surname === '') return false;
  if (a.surname === b.surname) return true;
  if (a.surnameParts.length === 1 && b.surnameParts.length === 1) return false;
  return a.surnameParts.some((part) => part.length >= 3 && b.surnameParts.includes(part));
}

/** identity-match's sameStreet over cached parts. */
export function keysShareStreet(a: HouseholdKeys, b: HouseholdKeys): boolean {
  return a.street !== undefined && a.street === b.street;
}

/** identity-match's sameAddress (same household) over cached parts. */
export function keysShareAddress(a: HouseholdKeys, b: HouseholdKeys): boolean {
  if (!keysShareStreet(a, b) || a.houseNumber !== b.houseNumber) return false;
  return a.unit === undefined || b.unit === undefined || a.unit === b.unit;
}

/** The reference lookups a relationship rule uses to see whether care explains an access. */
export interface TreatmentLookup {
  userRelationships(patientId: string, userId: string, at: number): readonly TreatmentRelationship[];
  departmentRelationships(patientId: string, departmentId: string, at: number): readonly TreatmentRelationship[];
}

/**
 * The treatment relationship, if any, that explains the access at `at`: the user's own first,
 * else their department's. Only called once a rule has matched, so it adds nothing per event.
 */
export function explainingRelationship(
  reference: TreatmentLookup,
  patientId: string,
  member: { readonly userId: string; readonly department: string },
  at: number,
): { relationship: TreatmentRelationship; via: 'user' | 'department' } | undefined {
  const own = reference.userRelationships(patientId, member.userId, at)[0];
  if (own !== undefined) return { relationship: own, via: 'user' };
  const dept = reference.departmentRelationships(patientId, member.department, at)[0];
  return dept === undefined ? undefined : { relationship: dept, via: 'department' };
}

const LOWER: Readonly<Record<Severity, Severity>> = { low: 'low', medium: 'low', high: 'medium', critical: 'high' };

/** One severity lower, as policy `withRelationship: 'lower'` asks. */
export function lowerSeverity(severity: Severity): Severity {
  return LOWER[severity];
}

const KIND_WORDS: Readonly<Record<TreatmentRelationship['kind'], string>> = {
  appointment: 'an appointment',
  encounter: 'an encounter',
  care_team: 'a care-team assignment',
  other: 'a treatment relationship',
};

/** "an appointment with their department (cardiology) is current", for lowered explanations. */
export function describeRelationship(found: {
  relationship: TreatmentRelationship;
  via: 'user' | 'department';
}): string {
  const what = KIND_WORDS[found.relationship.kind];
  return found.via === 'user'
    ? `${what} with them is current`
    : `${what} with their department (${found.relationship.departmentId ?? 'unknown'}) is current`;
}

/** The reference lookups both household rules (family, neighbour) need. */
export interface HouseholdReference extends TreatmentLookup {
  patient(id: string): Patient | undefined;
  member(userId: string): WorkforceMember | undefined;
  displayNameOfUser(userId: string): string | undefined;
}

/**
 * The event's patient and acting workforce member with their household keys, when both are in
 * the reference data with an address and the record is not the user's own (self-access is
 * another rule); otherwise undefined.
 */
export function householdPair(
  event: AccessEvent,
  reference: Pick<HouseholdReference, 'patient' | 'member'>,
): { patient: Patient; member: WorkforceMember; p: HouseholdKeys; m: HouseholdKeys } | undefined {
  const patientId = event.patient?.id;
  if (patientId === undefined) return undefined;
  const patient = reference.patient(patientId);
  if (patient?.address === undefined) return undefined;
  const userId = event.actor.userId;
  const member = reference.member(userId);
  if (member?.address === undefined || patient.workforceUserId === userId) return undefined;
  return { patient, member, p: householdKeys(patient), m: householdKeys(member) };
}
