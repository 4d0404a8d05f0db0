import { planElectiveAdmissions, planEmergencyDay } from './hospital-plan.js';
import { planOutpatientDay } from './outpatient-plan.js';
import type { LocalCalendar } from './local-time.js';
import type { FacilityProfile } from './profiles.js';
import { createRandom, deriveSeed } from './random.js';
import { MINUTE_MS, type PlanContext } from './relationship-builder.js';
import type { DayPlan, Patient } from './reference-data.js';
import type { Roster } from './roster.js';

/** How many days after its own day a day's plan can still have accesses (longest stay + coding). */
export const PLAN_HORIZON_DAYS = 14;

/**
 * Plans one local day: sign-ins at shift start, outpatient appointments, ED visits and
 * admissions, with every access they lead to. A pure function of (seed, day): planning a day
 * never depends on other days, so a generator keeps only a few days in memory.
 */
export function planDay(options: {
  seed: number;
  day: number;
  profile: FacilityProfile;
  calendar: LocalCalendar;
  roster: Roster;
  /** Patients who can have new encounters (the living). */
  patients: readonly Patient[];
}): DayPlan {
  const ctx: PlanContext = {
    profile: options.profile,
    calendar: options.calendar,
    random: createRandom(deriveSeed(options.seed, 'day', options.day)),
    roster: options.roster,
    day: options.day,
    opened: 0,
    accesses: [],
    relationships: [],
  };
  planLogins(ctx);
  planOutpatientDay(ctx, options.patients);
  if (options.profile.emergencyVisitsPerDay) planEmergencyDay(ctx, options.patients);
  if (options.profile.electiveAdmissions) planElectiveAdmissions(ctx, options.patients);
  return { day: options.day, relationships: ctx.relationships, accesses: ctx.accesses };
}

/** Everyone signs in within 20 minutes of their shift's start; now and then a password is mistyped first. */
function planLogins(ctx: PlanContext): void {
  for (const { member, start } of ctx.roster.shiftsStarting(ctx.day)) {
    const at = start + ctx.random.int(20 * MINUTE_MS);
    const login = {
      userId: member.userId,
      action: 'login',
      resourceType: 'Session',
      basis: { kind: 'login' },
    } as const;
    const retry = ctx.random.chance(0.03);
    if (retry) ctx.accesses.push({ ...login, at, outcome: 'failure' });
    ctx.accesses.push({ ...login, at: retry ? at + 15_000 : at, outcome: 'success' });
  }
}
