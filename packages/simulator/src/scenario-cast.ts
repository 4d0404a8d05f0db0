import type { Facility } from './facility.js';
import type { Patient, TreatmentRelationship, WorkforceMember } from './reference-data.js';

const DAY_MS = 86_400_000;

/**
 * Who can play which part in a snooping scenario, looked up once per facility: staff who are
 * patients and their same-name relatives, patients living on a staff member's street, coworkers,
 * VIP, restricted and deceased patients, former staff.
 */
export interface ScenarioCast {
  /** Living patients, for browsing and bulk reads. */
  readonly living: readonly Patient[];
  readonly vips: readonly Patient[];
  /** Restricted (break-the-glass) records of living patients. */
  readonly restricted: readonly Patient[];
  readonly deceased: readonly Patient[];
  /** Patients who are active workforce members. */
  readonly coworkers: readonly Patient[];
  readonly terminated: readonly WorkforceMember[];
  /** Members who work days (day shift or office hours): asleep at 2 am. */
  readonly dayWorkers: readonly WorkforceMember[];
  /** The patient record of a workforce member. */
  patientOf(userId: string): Patient | undefined;
  /** Relatives in the member's household with the member's family name (their own record excluded). */
  familyOf(userId: string): readonly Patient[];
  /** Living patients on the member's street and postal code, in another house. */
  neighboursOf(userId: string): readonly Patient[];
}

const NONE: readonly Patient[] = [];

/** Street and postal code of an address line "<number> <street>", the part neighbours share. */
const streetKey = (p: { address: { line: string; postalCode: string } }): string =>
  `${p.address.postalCode}|${p.address.line.slice(p.address.line.indexOf(' ') + 1)}`;

/** Builds the cast of a facility. */
export function castOf(facility: Facility): ScenarioCast {
  const living = facility.patients.filter((p) => p.deceasedAt === undefined);
  const byUser = new Map<string, Patient>();
  const byHousehold = new Map<string, Patient[]>();
  const byStreet = new Map<string, Patient[]>();
  for (const p of facility.patients) {
    if (p.workforceUserId !== undefined) byUser.set(p.workforceUserId, p);
    byHousehold.set(p.householdId, [...(byHousehold.get(p.householdId) ?? []), p]);
    if (p.deceasedAt === undefined) byStreet.set(streetKey(p), [...(byStreet.get(streetKey(p)) ?? []), p]);
  }
  const family = new Map<string, readonly Patient[]>();
  const neighbours = new Map<string, readonly Patient[]>();
  const active = facility.workforce.filter((m) => m.status === 'active');
  for (const m of active) {
    const own = byUser.get(m.userId);
    if (own !== undefined) {
      const relatives = (byHousehold.get(own.householdId) ?? []).filter(
        (p) => p !== own && p.familyName === m.familyName && p.deceasedAt === undefined,
      );
      if (relatives.length > 0) family.set(m.userId, relatives);
    }
    const near = (byStreet.get(streetKey(m)) ?? []).filter((p) => p.address.line !== m.address.line);
    if (near.length > 0) neighbours.set(m.userId, near);
  }
  const activeIds = new Set(active.map((m) => m.userId));
  return {
    living,
    vips: living.filter((p) => p.vip),
    restricted: living.filter((p) => p.restricted),
    deceased: facility.patients.filter((p) => p.deceasedAt !== undefined),
    coworkers: living.filter((p) => p.workforceUserId !== undefined && activeIds.has(p.workforceUserId)),
    terminated: facility.workforce.filter((m) => m.status === 'terminated'),
    dayWorkers: active.filter((m) => m.shift === 'day' || m.shift === 'office'),
    patientOf: (userId) => byUser.get(userId),
    familyOf: (userId) => family.get(userId) ?? NONE,
    neighboursOf: (userId) => neighbours.get(userId) ?? NONE,
  };
}

/**
 * The relationships of the days planned so far, by patient: whether a user or their department
 * has a reason to open a record at a given time. Expired relationships are dropped as days pass.
 */
export interface RelationshipLog {
  learn(relationships: readonly TreatmentRelationship[]): void;
  /** Whether the member or their department is related to the patient at `at` (window inclusive). */
  related(patientId: string, member: WorkforceMember, at: number): boolean;
  /** Patients related to the department at `at`, in id order. */
  patientsOfDepartment(department: string, at: number): string[];
  /** Forgets relationships that ended more than a day before `at`. */
  prune(at: number): void;
}

/** Creates an empty log. */
export function createRelationshipLog(): RelationshipLog {
  const byPatient = new Map<string, TreatmentRelationship[]>();
  const covers = (r: TreatmentRelationship, at: number): boolean => at >= r.accessFrom && at <= r.accessTo;
  const ofDepartment = (r: TreatmentRelationship, department: string): boolean =>
    r.department === department || r.departments.includes(department);
  return {
    learn(relationships) {
      for (const r of relationships) {
        const list = byPatient.get(r.patientId);
        if (list) list.push(r);
        else byPatient.set(r.patientId, [r]);
      }
    },
    related(patientId, member, at) {
      return (byPatient.get(patientId) ?? []).some(
        (r) => covers(r, at) && (r.careTeam.includes(member.userId) || ofDepartment(r, member.department)),
      );
    },
    patientsOfDepartment(department, at) {
      const out: string[] = [];
      for (const [patientId, list] of byPatient) {
        if (list.some((r) => covers(r, at) && ofDepartment(r, department))) out.push(patientId);
      }
      return out.sort();
    },
    prune(at) {
      for (const [patientId, list] of byPatient) {
        const kept = list.filter((r) => r.accessTo >= at - DAY_MS);
        if (kept.length === 0) byPatient.delete(patientId);
        else if (kept.length < list.length) byPatient.set(patientId, kept);
      }
    },
  };
}
