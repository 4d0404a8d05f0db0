import { z } from 'zod';
import {
  ALERT_STATUSES,
  ASSESSMENT_CONCLUSIONS,
  CASE_STATUSES,
  CaseEventSchema,
  MAX_CASE_ALERTS_PER_EVENT,
  MAX_CASE_TEXT_LENGTH,
  MAX_CASE_TITLE_LENGTH,
  MAX_DECISION_REASON_LENGTH,
  RISK_LEVELS,
  SEVERITIES,
  type BreachClock,
} from '@phi-audit/rules';

/**
 * Input and answers of the case routes (issue 6 item 4). Inputs are strict: an unknown field is
 * a 400 naming it. Answers are what the serializer checks each response against, and what
 * /docs/json documents. Times are epoch ms; days are calendar dates YYYY-MM-DD.
 */

const idString = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} must be at most 256 characters`)
    .refine((s) => s.isWellFormed(), `${what} contains an unpaired UTF-16 surrogate`);

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} is required` })
    .max(max, `${what} must be at most ${max} characters`)
    .refine((s) => s.trim().length >= 3, `${what} of at least 3 characters is required`);

const calendarDate = (what: string) => z.iso.date(`${what} must be a date YYYY-MM-DD`);
const alertIdString = z.string().regex(/^[0-9a-f]{64}$/, 'alertId must be 64 lowercase hex digits');
const alertIds = z
  .array(alertIdString)
  .min(1, 'alertIds must name at least one alert')
  .max(MAX_CASE_ALERTS_PER_EVENT, `alertIds must name at most ${MAX_CASE_ALERTS_PER_EVENT} alerts`);
/** A reason that also becomes the alerts' `escalated` decision reason: the shorter limit of the two. */
const DECISION_TEXT = Math.min(MAX_CASE_TEXT_LENGTH, MAX_DECISION_REASON_LENGTH);
const count = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(0, `${what} must be at least 0`)
    .max(1_000_000_000, `${what} must be at most 1000000000`);

export const CaseTenantParamsSchema = z.strictObject({ tenant: idString('tenant') });
export const CaseParamsSchema = z.strictObject({ tenant: idString('tenant'), caseId: z.uuid('caseId must be a UUID') });

/** `status` may repeat (`?status=open&status=investigating`) or be comma-separated. */
export const CaseListQuerySchema = z.strictObject({
  status: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')))
    .pipe(z.array(z.enum(CASE_STATUSES)).min(1).max(12))
    .optional(),
});

export const OpenCaseBodySchema = z.strictObject({
  title: text('title', MAX_CASE_TITLE_LENGTH),
  /** Also the reason of each alert's `escalated` decision. */
  summary: text('summary', DECISION_TEXT),
  alertIds,
  discoveredOn: calendarDate('discoveredOn')
    .optional()
    .describe("Day the incident was discovered (the breach clock's day 0); default: today's date in UTC"),
});

export const NoteBodySchema = z.strictObject({ text: text('text', MAX_CASE_TEXT_LENGTH) });

export const StatusBodySchema = z.strictObject({
  status: z.enum(CASE_STATUSES),
  reason: text('reason', MAX_CASE_TEXT_LENGTH),
});

export const LinkAlertsBodySchema = z.strictObject({
  alertIds,
  /** The reason of each newly linked alert's `escalated` decision. */
  reason: text('reason', DECISION_TEXT),
});

const factor = z.strictObject({ level: z.enum(RISK_LEVELS), notes: text('notes', MAX_CASE_TEXT_LENGTH) });

export const AssessmentBodySchema = z.strictObject({
  factors: z
    .strictObject({
      natureAndExtent: factor,
      unauthorizedPerson: factor,
      acquiredOrViewed: factor,
      mitigation: factor,
    })
    .describe('The four factors of 45 CFR 164.402(2)'),
  conclusion: z.enum(ASSESSMENT_CONCLUSIONS),
  rationale: text('rationale', MAX_CASE_TEXT_LENGTH),
});

export const BreachFactsBodySchema = z.strictObject({
  discoveredOn: calendarDate('discoveredOn'),
  affectedIndividuals: count('affectedIndividuals'),
  largestJurisdictionCount: count('largestJurisdictionCount')
    .optional()
    .describe('Residents of the most affected State or jurisdiction, when known'),
  reason: text('reason', MAX_CASE_TEXT_LENGTH),
});

// Answers.

const deadline = z.object({
  deadline: z.string(),
  daysRemaining: z.number().int().describe('Calendar days from today; 0 on the day, negative when past'),
  overdue: z.boolean(),
});

export const BreachClockSchema = z.object({
  status: z.enum(['running', 'not_a_breach']),
  discoveredOn: z.string(),
  today: z.string(),
  individuals: deadline,
  hhs: z.union([
    deadline.extend({ notice: z.enum(['contemporaneous', 'annual_log']) }),
    z.object({ notice: z.literal('unknown') }),
  ]),
  media: z.union([
    deadline.extend({ notice: z.enum(['required', 'possible']) }),
    z.object({ notice: z.enum(['not_required', 'unknown']) }),
  ]),
}) satisfies z.ZodType<BreachClock>;

export const CaseSummarySchema = z.object({
  caseId: z.string(),
  title: z.string(),
  status: z.enum(CASE_STATUSES),
  openedAt: z.number().int(),
  openedBy: z.string(),
  updatedAt: z.number().int(),
  alertCount: z.number().int(),
  discoveredOn: z.string(),
  conclusion: z.enum(ASSESSMENT_CONCLUSIONS).optional(),
  breachClock: BreachClockSchema,
});
export type CaseSummary = z.infer<typeof CaseSummarySchema>;
export const CaseListResponseSchema = z.object({ items: z.array(CaseSummarySchema) });

/** One alert of a case as the case page lists it. */
export const CaseAlertSchema = z.object({
  alertId: z.string(),
  ruleId: z.string(),
  severity: z.enum(SEVERITIES),
  riskScore: z.number(),
  userId: z.string(),
  patientId: z.string().optional(),
  day: z.string(),
  explanation: z.string(),
  status: z.enum(ALERT_STATUSES),
});
export type CaseAlert = z.infer<typeof CaseAlertSchema>;

const [openedEvent, noteEvent, statusEvent, linkedEvent, assessmentEvent, factsEvent] = CaseEventSchema.options;
const noTenant = { tenant: true } as const;
/** A case event as answered: the tenant is the URL's. */
export const CaseHistoryEventSchema = z.discriminatedUnion('kind', [
  openedEvent.omit(noTenant),
  noteEvent.omit(noTenant),
  statusEvent.omit(noTenant),
  linkedEvent.omit(noTenant),
  assessmentEvent.omit(noTenant),
  factsEvent.omit(noTenant),
]);
export type CaseHistoryEvent = z.infer<typeof CaseHistoryEventSchema>;

const by = { at: z.number().int(), by: z.string() };

export const CaseDetailSchema = z.object({
  caseId: z.string(),
  title: z.string(),
  summary: z.string(),
  status: z.enum(CASE_STATUSES),
  openedAt: z.number().int(),
  openedBy: z.string(),
  updatedAt: z.number().int(),
  discoveredOn: z.string(),
  alertIds: z.array(z.string()),
  notes: z.array(z.object({ ...by, text: z.string() })),
  assessment: AssessmentBodySchema.extend(by).optional(),
  breachFacts: z
    .object({
      discoveredOn: z.string(),
      affectedIndividuals: z.number().int(),
      largestJurisdictionCount: z.number().int().optional(),
      reason: z.string(),
      ...by,
    })
    .optional(),
  breachClock: BreachClockSchema,
  /** The case's alerts that exist (in alertIds order). */
  alerts: z.array(CaseAlertSchema),
  history: z.array(CaseHistoryEventSchema),
});
export type CaseDetail = z.infer<typeof CaseDetailSchema>;
export const CaseResponseSchema = z.object({ case: CaseDetailSchema });
