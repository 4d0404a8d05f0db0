import type { Action } from '@phi-audit/schema';
import type { Facility } from './facility.js';
import { RELATIONSHIP_LOOKBACK_DAYS } from './facility.js';
import { PLAN_HORIZON_DAYS } from './day-planner.js';
import { createRandom, deriveSeed, type Random } from './random.js';
import {
  SCENARIO_CLASSES,
  type Patient,
  type PlannedAccess,
  type ScenarioBasis,
  type ScenarioClass,
  type WorkforceMember,
} from './reference-data.js';
import type { ShiftInstance } from './roster.js';
import { castOf, createRelationshipLog, type ScenarioCast, type RelationshipLog } from './scenario-cast.js';

/**
 * Labelled snooping scenarios planted among a facility's benign traffic, so that a detector's
 * recall and precision can be measured against ground truth. Each instance is one person doing
 * one improper thing the way it happens: opening a relative's, a coworker's, a neighbour's or a
 * celebrity's chart during their shift at their usual workstation, with no treatment
 * relationship; looking at their own results; browsing charts from home at 2 am; exporting a
 * large patient list; a former employee's account still in use; opening the chart of a patient
 * long dead; breaking the glass without a reason or without a patient in their care. The facts
 * the rules need (households, addresses, coworkers, flags, dates) come from the facility's
 * reference data; events carry no free text beyond what benign events carry (fixed reasons).
 */

/** The detection rules (ids of the rules package's RULE_IDS) of which one must catch each class. */
export const EXPECTED_RULES: Readonly<Record<ScenarioClass, readonly string[]>> = {
  family: ['family'],
  coworker: ['coworker'],
  neighbour: ['neighbour'],
  vip: ['vip-confidential'],
  'self-access': ['self-access'],
  'after-hours': ['after-hours'],
  'bulk-export': ['bulk-read'],
  'terminated-user': ['inactive-user'],
  'deceased-patient': ['deceased-patient'],
  'break-the-glass-misuse': ['break-the-glass'],
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Deaths this long ago lie past any plausible grace period (the default policy allows 30 days). */
const LONG_DEAD_MS = 60 * DAY_MS;
/** Tries to find a target without a relationship before the instance is given up. */
const TRIES = 30;
/** Members tried for a part before the instance is given up. */
const CASTING_TRIES = 10;
/** What a snooper claims when breaking the glass; plausible, and no PHI. */
const PRETEXT_REASONS = [
  'Continuity of care',
  'Covering for a colleague on the unit',
  'Reviewing results for follow-up',
];
/** Reasons too short to count as one, or none at all. */
const NON_REASONS = [undefined, '', 'x', 'n/a', 'ok'];
/** What a curious look at a chart opens after the patient's summary. */
const CHART_PARTS = ['Encounter', 'DocumentReference', 'Observation', 'DiagnosticReport', 'MedicationStatement'];
const PURPOSE: Partial<Record<string, string>> = { billing: 'HPAYMT', him: 'HOPERAT' };

/** Plans the scenario accesses of each day; see {@link createTrafficGenerator}'s `scenarios`. */
export interface ScenarioPlanner {
  /** Relationships of a newly planned day: a target must have none with the snooper. */
  learn(relationships: Parameters<RelationshipLog['learn']>[0]): void;
  /**
   * The accesses of the scenarios of local `day`, about `perDay` of them (an instance is skipped
   * when the facility has nobody to play it that day, e.g. a clinic on Sunday). Call it once the
   * relationships of `day + 1` are learned; deterministic for (facility seed, day, perDay).
   */
  planDay(day: number): PlannedAccess[];
}

/** Creates a planner; it learns the relationships of the days before `firstDay` that are still valid on it. */
export function createScenarioPlanner(options: {
  facility: Facility;
  perDay: number;
  firstDay: number;
}): ScenarioPlanner {
  const { facility, perDay, firstDay } = options;
  const cast = castOf(facility);
  const log = createRelationshipLog();
  // The traffic generator plans from PLAN_HORIZON_DAYS before the first day; older plans can
  // still hold relationships valid on it.
  for (let day = firstDay - RELATIONSHIP_LOOKBACK_DAYS; day < firstDay - PLAN_HORIZON_DAYS; day++) {
    log.learn(facility.planDay(day).relationships);
  }
  return {
    learn: (relationships) => log.learn(relationships),
    planDay(day) {
      log.prune(facility.calendar.dayStart(day));
      const random = createRandom(deriveSeed(facility.seed, 'scenarios', day));
      const shifts = facility.roster.shiftsStarting(day);
      const out: PlannedAccess[] = [];
      for (let k = 0; k < perDay; k++) {
        // Classes take turns so that every class gets its share over a run.
        const index =
          (((day * perDay + k) % SCENARIO_CLASSES.length) + SCENARIO_CLASSES.length) % SCENARIO_CLASSES.length;
        const scenario = SCENARIO_CLASSES[index] as ScenarioClass;
        const basis: ScenarioBasis = {
          kind: 'scenario',
          scenario,
          scenarioId: `S${day}-${k}`,
          expectedRules: EXPECTED_RULES[scenario],
        };
        out.push(...PLAYS[scenario]({ facility, cast, log, random, day, shifts, basis }));
      }
      return out;
    },
  };
}

interface Play {
  facility: Facility;
  cast: ScenarioCast;
  log: RelationshipLog;
  random: Random;
  day: number;
  shifts: readonly ShiftInstance[];
  basis: ScenarioBasis;
}

/** One scenario's accesses, written in time order by one member from a moving clock. */
interface Script {
  readonly member: WorkforceMember;
  readonly accesses: PlannedAccess[];
  /** When the next access happens. */
  at: number;
  /** One access, then the clock moves on by `gapMs` plus up to `jitterMs`. */
  add(
    patientId: string | undefined,
    action: Action,
    resourceType: string,
    more?: Partial<PlannedAccess>,
    gapMs?: number,
    jitterMs?: number,
  ): void;
  /** A look at a chart: the summary, then `parts` more of it. */
  look(patientId: string, parts: number): void;
}

function script(play: Play, member: WorkforceMember, at: number, workstation?: string): Script {
  const s: Script = {
    member,
    accesses: [],
    at,
    add(patientId, action, resourceType, more = {}, gapMs = 20_000, jitterMs = MINUTE_MS) {
      const access: PlannedAccess = {
        at: Math.round(s.at),
        userId: member.userId,
        action,
        resourceType,
        outcome: 'success',
        basis: play.basis,
        ...more,
      };
      if (patientId !== undefined) {
        access.patientId = patientId;
        access.purposeOfUse ??= PURPOSE[member.department] ?? 'TREAT';
        if (resourceType === 'Patient' && access.resourceId === undefined) access.resourceId = patientId;
      }
      if (workstation !== undefined) access.workstation = workstation;
      s.accesses.push(access);
      s.at += gapMs + play.random.int(Math.max(1, jitterMs));
    },
    look(patientId, parts) {
      s.add(patientId, 'view', 'Patient');
      for (let i = 0; i < parts; i++) s.add(patientId, 'view', play.random.pick(CHART_PARTS));
    },
  };
  return s;
}

/** A shift of today, and a moment well inside it, for a member `accept` takes. */
function onShift(play: Play, accept: (m: WorkforceMember) => boolean = () => true): Script | undefined {
  const candidates = play.shifts.filter((s) => accept(s.member));
  if (candidates.length === 0) return undefined;
  const shift = play.random.pick(candidates);
  const span = shift.end - shift.start - 90 * MINUTE_MS;
  return script(play, shift.member, shift.start + 30 * MINUTE_MS + play.random.int(Math.max(1, span)));
}

/** A patient from `pool` whom neither the member nor their department is related to at `at`. */
function unrelated(
  play: Play,
  pool: readonly Patient[],
  member: WorkforceMember,
  at: number,
  also: (p: Patient) => boolean = () => true,
): Patient | undefined {
  if (pool.length === 0) return undefined;
  for (let i = 0; i < TRIES; i++) {
    const p = play.random.pick(pool);
    if (p.workforceUserId !== member.userId && also(p) && !play.log.related(p.id, member, at)) return p;
  }
  return undefined;
}

/** A relative, coworker, neighbour, VIP or long-dead patient opened during the shift, with no relationship. */
function curiousLook(
  pick: (play: Play, s: Script) => Patient | undefined,
  accept?: (play: Play, m: WorkforceMember) => boolean,
) {
  return (play: Play): PlannedAccess[] => {
    // Whoever is curious today: a member whose only candidates are in their care tries nothing.
    for (let i = 0; i < CASTING_TRIES; i++) {
      const s = onShift(play, accept === undefined ? undefined : (m) => accept(play, m));
      if (s === undefined) return [];
      const target = pick(play, s);
      if (target === undefined) continue;
      s.look(target.id, play.random.between(1, 3));
      return s.accesses;
    }
    return [];
  };
}

/** A stranger to the member (not in their household), for browsing. */
const stranger = (play: Play, s: Script): Patient | undefined =>
  unrelated(play, play.cast.living, s.member, s.at, (p) => p.address.line !== s.member.address.line);

const PLAYS: Readonly<Record<ScenarioClass, (play: Play) => PlannedAccess[]>> = {
  family: curiousLook(
    (play, s) => unrelated(play, play.cast.familyOf(s.member.userId), s.member, s.at),
    (play, m) => play.cast.familyOf(m.userId).length > 0,
  ),
  coworker: curiousLook((play, s) => {
    // Another department's coworker if there is one (a small practice may only have its own).
    const other = unrelated(
      play,
      play.cast.coworkers,
      s.member,
      s.at,
      (p) => play.facility.member(p.workforceUserId ?? '')?.department !== s.member.department,
    );
    return other ?? unrelated(play, play.cast.coworkers, s.member, s.at);
  }),
  neighbour: curiousLook(
    (play, s) => unrelated(play, play.cast.neighboursOf(s.member.userId), s.member, s.at),
    (play, m) => play.cast.neighboursOf(m.userId).length > 0,
  ),
  vip: curiousLook((play, s) => unrelated(play, play.cast.vips, s.member, s.at)),
  'deceased-patient': curiousLook((play, s) =>
    unrelated(play, play.cast.deceased, s.member, s.at, (p) => (p.deceasedAt ?? s.at) < s.at - LONG_DEAD_MS),
  ),

  'self-access'(play) {
    const s = onShift(play, (m) => play.cast.patientOf(m.userId) !== undefined);
    const own = s === undefined ? undefined : play.cast.patientOf(s.member.userId);
    if (s === undefined || own === undefined) return [];
    s.add(own.id, 'view', 'Patient');
    s.add(own.id, 'view', 'DiagnosticReport');
    if (play.random.chance(0.5)) s.add(own.id, 'view', 'Observation');
    if (play.random.chance(0.2)) s.add(own.id, 'print', 'DiagnosticReport');
    return s.accesses;
  },

  'after-hours'(play) {
    // A day worker signs in from home in the small hours and browses charts of no one in their care.
    if (play.cast.dayWorkers.length === 0) return [];
    const member = play.random.pick(play.cast.dayWorkers);
    const at = play.facility.calendar.instant(play.day, play.random.between(90, 210));
    if (member.hiredAt > at || play.facility.roster.isOnDuty(member, at)) return [];
    const s = script(play, member, at, `remote-vpn-${String(play.random.between(1, 20)).padStart(2, '0')}`);
    s.add(undefined, 'login', 'Session');
    for (let i = play.random.between(2, 4); i > 0; i--) {
      const target = stranger(play, s);
      if (target !== undefined) s.look(target.id, play.random.between(0, 2));
    }
    return s.accesses.length > 1 ? s.accesses : [];
  },

  'bulk-export'(play) {
    const s = onShift(play);
    if (s === undefined) return [];
    if (play.random.chance(0.5)) {
      // A patient list run as a report and exported whole; the event names its first row's patient.
      const first = stranger(play, s);
      if (first === undefined) return [];
      const rows = play.random.between(800, 20_000);
      s.add(first.id, 'query', 'Patient', { recordCount: rows });
      s.add(first.id, 'export', 'List', { recordCount: rows });
      return s.accesses;
    }
    // Chart after chart exported by hand or by script: 80–200 patients in 15–40 minutes.
    const patients = play.random.between(80, 200);
    const pace = (play.random.between(15, 40) * MINUTE_MS) / patients;
    const seen = new Set<string>();
    while (seen.size < patients) {
      const p = play.random.pick(play.cast.living);
      if (seen.has(p.id) || p.workforceUserId === s.member.userId) continue;
      seen.add(p.id);
      s.add(p.id, 'export', 'DocumentReference', {}, pace / 2, pace);
    }
    return s.accesses;
  },

  'terminated-user'(play) {
    // A former employee's account, still enabled, used during the day from their old workstation or remotely.
    const at = play.facility.calendar.instant(play.day, play.random.between(8 * 60, 18 * 60));
    const gone = play.cast.terminated.filter((m) => (m.terminatedAt ?? at) < at);
    if (gone.length === 0) return [];
    const member = play.random.pick(gone);
    const remote = play.random.chance(0.5)
      ? `remote-vpn-${String(play.random.between(1, 20)).padStart(2, '0')}`
      : undefined;
    const s = script(play, member, at, remote);
    s.add(undefined, 'login', 'Session');
    for (let i = play.random.between(1, 3); i > 0; i--) {
      const target = stranger(play, s);
      if (target !== undefined) s.look(target.id, play.random.between(0, 2));
    }
    return s.accesses;
  },

  'break-the-glass-misuse'(play) {
    const s = onShift(play);
    if (s === undefined) return [];
    const variant = play.random.int(3);
    let target: Patient | undefined;
    let reason: string | undefined;
    if (variant === 0) {
      // A patient of their department's, but the glass broken with no real reason.
      const ids = play.log.patientsOfDepartment(s.member.department, s.at);
      const restricted = ids
        .map((id) => play.facility.patient(id))
        .filter((p) => p?.restricted === true && p.workforceUserId !== s.member.userId);
      target = restricted.length === 0 ? undefined : play.random.pick(restricted);
      reason = play.random.pick(NON_REASONS);
    }
    if (target === undefined) {
      // A restricted record of someone in no one's care here, with a pretext or with nothing.
      target = unrelated(play, play.cast.restricted, s.member, s.at);
      reason = variant === 1 ? play.random.pick(PRETEXT_REASONS) : play.random.pick(NON_REASONS);
    }
    if (target === undefined) return [];
    s.add(target.id, 'break_glass', 'Patient', {
      purposeOfUse: 'ETREAT',
      ...(reason === undefined ? {} : { reason }),
    });
    s.look(target.id, play.random.between(1, 3));
    return s.accesses;
  },
};
