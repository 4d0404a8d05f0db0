import { CodedError } from '@phi-audit/schema';
import { z } from 'zod';
import { SEVERITIES, type Severity } from './alert.js';
import { WeeklyHoursSchema, type WeeklyHours } from './business-hours.js';

/**
 * A tenant's detection policy: its time zone, working hours and shifts, and the settings of every
 * rule in DESIGN.md "Detection". Every field has a default, so `{}` is a valid policy file and a
 * tenant writes only what differs; {@link DEFAULT_POLICY} is that default.
 */

/**
 * Rule ids of the DESIGN.md rule set, stable: alert ids, dedup keys and labels use them. Each
 * rule's settings are the policy section of the same name in camelCase (`bulk-read` → `bulkRead`).
 */
export const RULE_IDS = [
  'after-hours',
  'vip-confidential',
  'bulk-read',
  'self-access',
  'family',
  'coworker',
  'neighbour',
  'deceased-patient',
  'inactive-user',
  'no-treatment-relationship',
  'break-the-glass',
  'peer-deviation',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SeveritySchema = z.enum(SEVERITIES);

/** An IANA zone name the runtime knows; a misspelled zone must fail, not silently become UTC. */
export const TimeZoneSchema = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone }).format(0);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'unknown IANA time zone' },
);

/** Settings every rule has, with defaults given per rule below. */
function ruleSchema<S extends z.ZodRawShape>(defaults: { severity: Severity; riskScore: number }, extra: S) {
  const schema = z.strictObject({
    enabled: z.boolean().default(true),
    severity: SeveritySchema.default(defaults.severity),
    riskScore: z.number().int().min(0).max(100).default(defaults.riskScore),
    /** Roles this rule never fires for (e.g. HIM clerks for deceased patients). */
    exemptRoles: z.array(z.string().min(1)).default([]),
    ...extra,
  });
  // Every `extra` field has a default too, which TypeScript cannot see through the generic.
  return schema.prefault({} as z.input<typeof schema>);
}

/**
 * What a current treatment relationship between the user (or their department) and the patient
 * does to a relationship rule: `suppress` drops the alert, `lower` keeps it one severity lower
 * and at half the risk score, with the relationship named in the explanation.
 */
const withRelationship = z.enum(['suppress', 'lower']).default('suppress');

const nonNegInt = z.number().int().min(0);
const posInt = z.number().int().min(1);

const ruleSections = {
  afterHours: ruleSchema(
    { severity: 'low', riskScore: 30 },
    {
      /** Minutes outside working hours that still count as working (staying late, logging in early). */
      graceMinutes: nonNegInt.max(240).default(30),
      withRelationship: z.enum(['suppress', 'lower']).default('lower'),
    },
  ),
  vipConfidential: ruleSchema({ severity: 'high', riskScore: 70 }, { withRelationship }),
  bulkRead: ruleSchema(
    { severity: 'high', riskScore: 75 },
    {
      /** Fires when a user opens more than this many distinct patients within one window (`window.minutes`). */
      maxDistinctPatients: posInt.max(100_000).default(50),
      /** An export or query returning at least this many rows counts as a bulk read on its own. */
      recordCount: posInt.default(500),
    },
  ),
  selfAccess: ruleSchema({ severity: 'medium', riskScore: 50 }, {}),
  family: ruleSchema(
    { severity: 'high', riskScore: 80 },
    {
      /** Also fire, one severity lower, for a patient at the user's address under another surname (spouse, roommate). */
      householdWithoutSurname: z.boolean().default(false),
      withRelationship,
    },
  ),
  coworker: ruleSchema(
    { severity: 'medium', riskScore: 60 },
    {
      /** Only coworkers in the user's own department, not the whole workforce. */
      sameDepartmentOnly: z.boolean().default(false),
      withRelationship,
    },
  ),
  neighbour: ruleSchema({ severity: 'medium', riskScore: 60 }, { withRelationship }),
  deceasedPatient: ruleSchema(
    { severity: 'medium', riskScore: 50 },
    {
      /** Days after the date of death in which access is expected (billing, coding, records requests). */
      graceDays: nonNegInt.max(3650).default(30),
    },
  ),
  inactiveUser: ruleSchema(
    { severity: 'critical', riskScore: 95 },
    {
      /** Minutes after `terminatedAt` before access counts (a clock-skew allowance). */
      graceMinutes: nonNegInt.max(24 * 60).default(0),
    },
  ),
  noTreatmentRelationship: ruleSchema(
    { severity: 'low', riskScore: 40 },
    {
      /** A relationship of the user's department explains the access too. */
      departmentRelationships: z.boolean().default(true),
    },
  ),
  breakTheGlass: ruleSchema(
    { severity: 'medium', riskScore: 55 },
    {
      /** Reasons shorter than this (after trimming) are treated as missing. */
      minReasonLength: nonNegInt.default(10),
      /**
       * Also review a use that is explained: a reason was given and the user or their department
       * had a current treatment relationship with the patient. Off by default: in an ED such uses
       * are routine (a restricted record opened for the patient in front of the clinician) and
       * would bury the misuse; on, every use is reviewed.
       */
      reviewExplained: z.boolean().default(false),
    },
  ),
  peerDeviation: ruleSchema(
    { severity: 'medium', riskScore: 50 },
    {
      /** Standard deviations above the role's mean of daily distinct patients. */
      zScore: z.number().positive().default(3),
      /** Fewer active peers in the role than this: no comparison. */
      minPeers: z.number().int().min(2).default(5),
      /** Below this many distinct patients in a day the rule never fires, whatever the peers do. */
      minDistinctPatients: posInt.default(30),
    },
  ),
};

const DEFAULT_BUSINESS_HOURS = {
  mon: ['07:00-19:00'],
  tue: ['07:00-19:00'],
  wed: ['07:00-19:00'],
  thu: ['07:00-19:00'],
  fri: ['07:00-19:00'],
};

const EVERY_DAY = (range: string) => ({
  mon: [range],
  tue: [range],
  wed: [range],
  thu: [range],
  fri: [range],
  sat: [range],
  sun: [range],
});

/**
 * Named shifts every policy has, covering the usual hospital roster (8-hour shifts around the
 * clock, every day), so that workforce records naming one need no policy file. A tenant's own
 * `shifts` are added to these and may redefine them by name. Members with another shift (e.g.
 * `office`) or none work business hours.
 */
export const DEFAULT_SHIFTS: Readonly<Record<'day' | 'evening' | 'night', WeeklyHours>> = {
  day: WeeklyHoursSchema.parse(EVERY_DAY('07:00-15:00')),
  evening: WeeklyHoursSchema.parse(EVERY_DAY('15:00-23:00')),
  night: WeeklyHoursSchema.parse(EVERY_DAY('23:00-07:00')),
};

const name = z.string().min(1);
const MINUTE_MS = 60_000;

export const PolicySchema = z
  .strictObject({
    /** Informational; the tenant is whatever the policy is loaded for. */
    tenant: name.optional(),
    timeZone: TimeZoneSchema.default('America/New_York'),
    businessHours: WeeklyHoursSchema.prefault(DEFAULT_BUSINESS_HOURS),
    /**
     * Named shifts, added to {@link DEFAULT_SHIFTS} (a name here redefines a default one); a
     * workforce member's `shift`, or a role or department override, names one.
     */
    shifts: z
      .record(name, WeeklyHoursSchema)
      .default({})
      .transform((own): Record<string, WeeklyHours> => ({ ...DEFAULT_SHIFTS, ...own })),
    /** Shift by role, for members without a shift of their own. */
    roleShifts: z.record(name, name).default({}),
    /** Shift by department; wins over the role's. */
    departmentShifts: z.record(name, name).default({}),
    /** See EnginePolicy.maxPatientAlertsPerRuleUserDay: beyond it one user-level alert per rule and day collects the rest. */
    maxPatientAlertsPerRuleUserDay: posInt.max(100_000).default(25),
    window: z
      .strictObject({
        /** Length of the bulk-read window. */
        minutes: posInt.max(24 * 60).default(60),
        /** Overlapping windows: 2 catches any burst within half a window. */
        hops: posInt.max(12).default(2),
        /** How far behind the newest event time an event may arrive and still be counted. */
        allowedLatenessMinutes: nonNegInt.max(7 * 24 * 60).default(60),
        /** Distinct patients per user and day kept for peer deviation; above any plausible day. */
        dailyCap: posInt.default(1000),
        /** A user's earlier access of the same patient counts as recent within this span. */
        pairWindowMinutes: posInt.max(7 * 24 * 60).default(30),
        /** Most (user, patient) pairs remembered per user. */
        pairCap: posInt.default(1000),
      })
      .prefault({}),
    ...ruleSections,
  })
  .superRefine((policy, ctx) => {
    if ((policy.window.minutes * MINUTE_MS) % policy.window.hops !== 0) {
      ctx.addIssue({ code: 'custom', path: ['window', 'hops'], message: 'must divide the window length in ms' });
    }
    for (const key of ['roleShifts', 'departmentShifts'] as const) {
      for (const [owner, shift] of Object.entries(policy[key])) {
        if (!Object.hasOwn(policy.shifts, shift)) {
          ctx.addIssue({ code: 'custom', path: [key, owner], message: `unknown shift "${shift}"` });
        }
      }
    }
  })
  // The engine's window settings, in milliseconds; the distinct-patient cap follows the bulk-read threshold.
  .transform(({ window, ...rest }) => ({
    ...rest,
    window: {
      windowMs: window.minutes * MINUTE_MS,
      hops: window.hops,
      latenessMs: window.allowedLatenessMinutes * MINUTE_MS,
      distinctCap: rest.bulkRead.maxDistinctPatients + 1,
      dailyCap: window.dailyCap,
      pairWindowMs: window.pairWindowMinutes * MINUTE_MS,
      pairCap: window.pairCap,
    },
  }));
export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

/** Thrown by {@link parsePolicy}; `problems` lists every problem, each with its path. */
export class PolicyError extends CodedError<'RULES_INVALID_POLICY'> {
  override readonly name = 'PolicyError';
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super('RULES_INVALID_POLICY', `invalid policy:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
  }
}

/**
 * Parses a policy file (its text or its parsed JSON), filling defaults. Throws a
 * {@link PolicyError} listing every problem at once; the result is deeply frozen.
 */
export function parsePolicy(input: unknown): Policy {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input) as unknown;
    } catch (err) {
      throw new PolicyError([`(file): not JSON: ${(err as Error).message}`], { cause: err });
    }
  }
  const parsed = PolicySchema.safeParse(json);
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((i) => `${i.path.join('.') || '(policy)'}: ${i.message}`));
  }
  return deepFreeze(parsed.data);
}

/**
 * The policy of a tenant that wrote none: business hours weekdays 07:00–19:00 in
 * America/New_York, the day, evening and night shifts of {@link DEFAULT_SHIFTS}, every rule on.
 */
export const DEFAULT_POLICY: Policy = parsePolicy({});

/** What {@link shiftOf} needs to know about a workforce member. */
export interface ShiftSubject {
  role: string;
  department: string;
  shift?: string | undefined;
}

/**
 * The shift that applies to a member: their own, else their department's, else their role's;
 * undefined when none (business hours only). A member's shift the policy does not define is
 * ignored rather than fatal, since reference data and policy are loaded separately.
 */
export function shiftOf(policy: Policy, member: ShiftSubject): WeeklyHours | undefined {
  for (const named of [member.shift, policy.departmentShifts[member.department], policy.roleShifts[member.role]]) {
    if (named !== undefined && Object.hasOwn(policy.shifts, named)) return policy.shifts[named];
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
