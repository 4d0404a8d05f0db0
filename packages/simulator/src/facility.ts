import { planDay } from './day-planner.js';
import { createLocalCalendar, type LocalCalendar } from './local-time.js';
import { createPatients, createWorkforce } from './population.js';
import { PROFILES, type FacilityProfile, type ProfileName } from './profiles.js';
import { createRandom, deriveSeed } from './random.js';
import { MAX_STAY_DAYS } from './hospital-plan.js';
import { ACCESS_TAIL_MS } from './relationship-builder.js';
import type { DayPlan, Department, Patient, TreatmentRelationship, WorkforceMember } from './reference-data.js';
import { createRoster, type Roster } from './roster.js';

/** Options of {@link createFacility}. */
export interface FacilityOptions {
  profile: ProfileName;
  /** Everything about the facility and its days follows from this seed. */
  seed: number;
  /** IANA time zone of the facility's wall clock. Default America/New_York. */
  timeZone?: string;
  /** Tenant the facility's events belong to. Default `demo-<profile>`. */
  tenant?: string;
  /**
   * "Today" of the reference data: hire, termination and death dates lie before it and ages are
   * counted from it. Default 2025-01-01 (a fixed date, so that a seed gives the same facility).
   */
  asOf?: number;
}

/** A simulated clinic or hospital: reference data plus a day-by-day plan of its work. */
export interface Facility {
  readonly profile: FacilityProfile;
  readonly seed: number;
  readonly timeZone: string;
  readonly tenant: string;
  readonly departments: readonly Department[];
  /** Active and former staff. */
  readonly workforce: readonly WorkforceMember[];
  readonly patients: readonly Patient[];
  readonly roster: Roster;
  /** Local-time conversions in the facility's zone. */
  readonly calendar: LocalCalendar;
  member(userId: string): WorkforceMember | undefined;
  patient(id: string): Patient | undefined;
  /** The local calendar day (days since 1970-01-01) containing `at`. */
  dayOf(at: number): number;
  /**
   * Appointments, ED visits and admissions that start on local `day`, with every access they
   * lead to (some on later days). Computed on demand, not kept: same day, same plan.
   */
  planDay(day: number): DayPlan;
}

/** Creates a facility of the given profile; deterministic for `seed`, `timeZone` and `asOf`. */
export function createFacility(options: FacilityOptions): Facility {
  const profile = PROFILES[options.profile];
  const timeZone = options.timeZone ?? 'America/New_York';
  const asOf = options.asOf ?? Date.UTC(2025, 0, 1);
  // Fails fast on a misspelled zone instead of silently using UTC.
  new Intl.DateTimeFormat('en-US', { timeZone }).format(0);
  const workforce = createWorkforce({ profile, random: createRandom(deriveSeed(options.seed, 'workforce')), asOf });
  const patients = createPatients({
    profile,
    random: createRandom(deriveSeed(options.seed, 'patients')),
    asOf,
    workforce,
  });
  const living = patients.filter((p) => p.deceasedAt === undefined);
  const calendar = createLocalCalendar(timeZone);
  const roster = createRoster({ profile, calendar, workforce });
  const members = new Map(workforce.map((m) => [m.userId, m]));
  const byId = new Map(patients.map((p) => [p.id, p]));
  return {
    profile,
    seed: options.seed,
    timeZone,
    tenant: options.tenant ?? `demo-${profile.name}`,
    departments: profile.departments,
    workforce,
    patients,
    roster,
    calendar,
    member: (userId) => members.get(userId),
    patient: (id) => byId.get(id),
    dayOf: (at) => calendar.dayOf(at),
    planDay: (day) => planDay({ seed: options.seed, day, profile, calendar, roster, patients: living }),
  };
}

/**
 * How many days before a day D the plans can hold relationships still valid on D: an ED visit
 * late on its day, an admission from it of the longest stay, then the access tail after
 * discharge, plus a day of margin.
 */
export const RELATIONSHIP_LOOKBACK_DAYS = 1 + MAX_STAY_DAYS + ACCESS_TAIL_MS / 86_400_000 + 1;

/**
 * The treatment relationships of the planned local days `fromDay` through `toDay` (inclusive),
 * e.g. the reference data a detector needs for traffic from day S to day E:
 * `relationshipsForDays(f, S - RELATIONSHIP_LOOKBACK_DAYS, E + 1)` (the day after E for
 * pre-charting windows that open the evening before).
 */
export function relationshipsForDays(facility: Facility, fromDay: number, toDay: number): TreatmentRelationship[] {
  const out: TreatmentRelationship[] = [];
  for (let day = fromDay; day <= toDay; day++) out.push(...facility.planDay(day).relationships);
  return out;
}
