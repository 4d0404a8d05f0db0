import { z } from 'zod';

/**
 * Investigation cases (issue 6). A case is opened from one or more alerts and then worked:
 * notes, status changes, more alerts, the HIPAA breach risk assessment (the four factors of
 * 45 CFR 164.402(2)) and the facts the breach clock runs on (discovery date, number of people
 * affected). Like alert decisions, a case is a sequence of appended events, never updated:
 * its state is the fold of its events (case-fold.ts), so the history of who did what, when
 * and why is kept for the file. Stored next to the alerts in both stores. No I/O here.
 */

/** open → investigating → closed (a closed case can be reopened with a status event). */
export const CASE_STATUSES = ['open', 'investigating', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Qualitative level of one risk-assessment factor. */
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * The four factors of 45 CFR 164.402(2), in the regulation's order:
 * (i) the nature and extent of the PHI involved, including the types of identifiers and the
 * likelihood of re-identification; (ii) the unauthorized person who used the PHI or to whom
 * the disclosure was made; (iii) whether the PHI was actually acquired or viewed; (iv) the
 * extent to which the risk to the PHI has been mitigated.
 */
export const RISK_FACTORS = ['natureAndExtent', 'unauthorizedPerson', 'acquiredOrViewed', 'mitigation'] as const;
export type RiskFactor = (typeof RISK_FACTORS)[number];

/**
 * The assessment's conclusion: a low probability that the PHI has been compromised (no
 * notification), or a breach (notify). An impermissible use is presumed a breach unless the
 * assessment shows a low probability of compromise.
 */
export const ASSESSMENT_CONCLUSIONS = ['low_probability_of_compromise', 'breach'] as const;
export type AssessmentConclusion = (typeof ASSESSMENT_CONCLUSIONS)[number];

export const MAX_CASE_TEXT_LENGTH = 8000;
export const MAX_CASE_TITLE_LENGTH = 200;
/** Most alerts one event may link (bulk escalation of a day's alerts of one user fits easily). */
export const MAX_CASE_ALERTS_PER_EVENT = 1000;

const requiredText = (what: string, max = MAX_CASE_TEXT_LENGTH) =>
  z
    .string()
    .max(max, `${what} must be at most ${max} characters`)
    .refine((s) => s.trim().length >= 3, `${what} of at least 3 characters is required`);
const alertIdList = z
  .array(z.string().regex(/^[0-9a-f]{64}$/, 'alertId must be 64 lowercase hex digits'))
  .min(1)
  .max(MAX_CASE_ALERTS_PER_EVENT);
/** A calendar date, YYYY-MM-DD (the breach clock counts calendar days). */
export const CalendarDateSchema = z.iso.date('must be a date YYYY-MM-DD');

const FactorAssessmentSchema = z.strictObject({
  level: z.enum(RISK_LEVELS),
  notes: requiredText('factor notes'),
});

/** What every case event carries. Free text (titles, notes, reasons) is PHI-adjacent: never logged. */
const CaseEventBase = {
  tenant: z.string().min(1),
  /** Assigned when the case is opened (a UUID); the same for every event of the case. */
  caseId: z.uuid(),
  /** Unique per event (a UUID): orders events of the same millisecond. */
  eventId: z.uuid(),
  /** Epoch ms, from the console's clock. */
  at: z.number().int().min(0),
  /** The console account that acted. */
  by: z.string().min(1),
};

export const CaseEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...CaseEventBase,
    kind: z.literal('opened'),
    title: requiredText('a title', MAX_CASE_TITLE_LENGTH),
    summary: requiredText('a summary'),
    alertIds: alertIdList,
    /**
     * The day the incident was discovered (known, or by exercising reasonable diligence would
     * have been known): the breach clock's day 0. The console defaults it to the opening day.
     */
    discoveredOn: CalendarDateSchema,
  }),
  z.strictObject({ ...CaseEventBase, kind: z.literal('note'), text: requiredText('a note') }),
  z.strictObject({
    ...CaseEventBase,
    kind: z.literal('status'),
    status: z.enum(CASE_STATUSES),
    reason: requiredText('a reason'),
  }),
  z.strictObject({ ...CaseEventBase, kind: z.literal('alerts_linked'), alertIds: alertIdList }),
  z.strictObject({
    ...CaseEventBase,
    kind: z.literal('assessment'),
    factors: z.strictObject({
      natureAndExtent: FactorAssessmentSchema,
      unauthorizedPerson: FactorAssessmentSchema,
      acquiredOrViewed: FactorAssessmentSchema,
      mitigation: FactorAssessmentSchema,
    }),
    conclusion: z.enum(ASSESSMENT_CONCLUSIONS),
    rationale: requiredText('a rationale'),
  }),
  z.strictObject({
    ...CaseEventBase,
    kind: z.literal('breach_facts'),
    discoveredOn: CalendarDateSchema,
    /** Individuals whose PHI was (or may have been) involved. */
    affectedIndividuals: z.number().int().min(0).max(1_000_000_000),
    /**
     * Residents of the most affected State or jurisdiction, when known: media notice is due when
     * it exceeds 500 (45 CFR 164.406). Absent = unknown (the clock then uses affectedIndividuals).
     */
    largestJurisdictionCount: z.number().int().min(0).max(1_000_000_000).optional(),
    reason: requiredText('a reason'),
  }),
]);
export type CaseEvent = z.infer<typeof CaseEventSchema>;
export type CaseEventKind = CaseEvent['kind'];
export const CASE_EVENT_KINDS = [
  'opened',
  'note',
  'status',
  'alerts_linked',
  'assessment',
  'breach_facts',
] as const satisfies readonly CaseEventKind[];

/**
 * Store order of a case's events: `at` ascending, then `eventId` ascending. Both stores return
 * events in this order; the fold relies on it (a later status wins).
 */
export function compareCaseEvents(a: CaseEvent, b: CaseEvent): number {
  if (a.at !== b.at) return a.at - b.at;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

export interface CaseStore {
  /**
   * Appends case events, all or nothing, after validating each with CaseEventSchema
   * (STORE_INVALID_VALUE naming the field, nothing stored). An `opened` event must carry a
   * caseId not yet used by the tenant (STORE_CASE_EXISTS); every other event must name a case
   * already opened for its tenant, or opened earlier in the same call (STORE_UNKNOWN_CASE).
   * An eventId already stored for the tenant is refused (STORE_CASE_EXISTS): nothing is
   * silently changed.
   */
  appendCaseEvents(events: readonly CaseEvent[]): Promise<void>;
  /** Every event of one case of the tenant, in compareCaseEvents order; [] for an unknown case. */
  caseEvents(tenant: string, caseId: string): Promise<CaseEvent[]>;
  /**
   * Every event of every case of the tenant, in compareCaseEvents order (the case list folds
   * them; a practice has tens to thousands of cases, not millions). A stored row that does not
   * parse as a CaseEvent fails loudly (the store's corrupt-row error), never skipped.
   */
  tenantCaseEvents(tenant: string): Promise<CaseEvent[]>;
}
