import type { Action } from '@phi-audit/schema';

/**
 * Reference data of a simulated facility: what a detector joins events with (DESIGN.md
 * "The event": events carry identifiers, reference data carries names, addresses, flags and
 * care relationships). All times are UTC epoch milliseconds; dates are local `YYYY-MM-DD`.
 */

export type Role =
  | 'physician'
  | 'nurse'
  | 'medical_assistant'
  | 'front_desk'
  | 'billing'
  | 'pharmacist'
  | 'radiology_tech'
  | 'him_clerk';

/** `office` is weekdays only; the others are the hospital's 8-hour shifts (night ends the next morning). */
export type ShiftName = 'office' | 'day' | 'evening' | 'night';

export interface Shift {
  name: ShiftName;
  /** Local start, minutes after midnight. */
  startMinute: number;
  /** Length in minutes; may run past midnight. */
  minutes: number;
  weekdaysOnly: boolean;
}

export interface Address {
  line: string;
  city: string;
  state: string;
  postalCode: string;
}

export interface Department {
  id: string;
  name: string;
}

export interface WorkforceMember {
  userId: string;
  givenName: string;
  familyName: string;
  /** How the EHR shows the user, e.g. "Dr. Maria Lopez"; the events' `actor.name`. */
  displayName: string;
  address: Address;
  birthDate: string;
  role: Role;
  department: string;
  shift: ShiftName;
  status: 'active' | 'terminated';
  hiredAt: number;
  terminatedAt?: number;
  /** The workstation the user normally signs in at. */
  workstation: string;
}

export interface Patient {
  /** Medical record number; the events' `patient.id`. */
  id: string;
  givenName: string;
  familyName: string;
  address: Address;
  birthDate: string;
  /** Set for patients who have died; they get no new encounters. */
  deceasedAt?: number;
  /** A public figure: the record is flagged VIP (and restricted). */
  vip: boolean;
  /** A restricted (confidential) record: opening it outside the care team needs break-the-glass. */
  restricted: boolean;
  /** Set when the patient is a member of the workforce. */
  workforceUserId?: string;
  /** Patients of one household share an address (and usually a family name). */
  householdId: string;
}

export type RelationshipKind = 'appointment' | 'ed_visit' | 'admission';

/**
 * A treatment relationship from an appointment or encounter: who may open the patient's record
 * and when. Users on the care team are related personally; other departments (pharmacy,
 * radiology, billing, HIM) through the orders and claims the encounter created.
 */
export interface TreatmentRelationship {
  id: string;
  kind: RelationshipKind;
  patientId: string;
  /** The department that owns the encounter. */
  department: string;
  /** Scheduled start / arrival, and end / discharge. */
  start: number;
  end: number;
  careTeam: readonly string[];
  /** Departments related through orders, results, claims or coding. */
  departments: readonly string[];
  /** The window in which access is expected (from before check-in to after billing and coding). */
  accessFrom: number;
  accessTo: number;
}

/** The kinds of snooping the scenario injector plants in benign traffic (see scenarios.ts). */
export const SCENARIO_CLASSES = [
  'family',
  'coworker',
  'neighbour',
  'vip',
  'self-access',
  'after-hours',
  'bulk-export',
  'terminated-user',
  'deceased-patient',
  'break-the-glass-misuse',
] as const;
export type ScenarioClass = (typeof SCENARIO_CLASSES)[number];

/** Why an access of ordinary work happens: an encounter's relationship, or a shift's sign-in. */
export type BenignBasis = { kind: 'relationship'; relationshipId: string } | { kind: 'login' };

/**
 * An access planted by a snooping scenario. `expectedRules` are the detection rule ids (the
 * rules package's RULE_IDS; the simulator does not import it) of which one must catch it.
 */
export interface ScenarioBasis {
  kind: 'scenario';
  scenario: ScenarioClass;
  /** Shared by every access of one scenario instance. */
  scenarioId: string;
  expectedRules: readonly string[];
}

/** Why a planned access happens. */
export type AccessBasis = BenignBasis | ScenarioBasis;

/** One access a user will make, before it becomes an event. */
export interface PlannedAccess {
  at: number;
  userId: string;
  /** Absent for a login, which concerns no patient. */
  patientId?: string;
  action: Action;
  resourceType: string;
  resourceId?: string;
  outcome: 'success' | 'failure';
  purposeOfUse?: string;
  reason?: string;
  recordCount?: number;
  /** Where the access was made, when not at the user's usual workstation (e.g. a remote session). */
  workstation?: string;
  basis: AccessBasis;
}

/** Everything the facility does on one local calendar day. Accesses may fall on later days. */
export interface DayPlan {
  /** Days since 1970-01-01 of the local calendar date. */
  day: number;
  relationships: readonly TreatmentRelationship[];
  accesses: readonly PlannedAccess[];
}
