import { SEVERITIES, type Severity } from './alert.js';
import {
  ALERT_STATUSES,
  AlertDecisionSchema,
  OPEN_AGE_BINS,
  type AlertDecision,
  type AlertReviewStore,
  type AlertStatus,
  type OpenAlertAges,
  type ReviewQuery,
} from './alert-review.js';
import { checkText, DetectionRowError } from './detection-rows.js';
import { z } from 'zod';

/**
 * The checks of the AlertReviewStore's values on the way in (STORE_INVALID_VALUE) and out
 * (STORE_CORRUPT_DATA). Pure. Messages name fields and positions, never a reason or other free
 * text (reasons are PHI). Shared by store-sqlite and
 * store-clickhouse.
 */

/** Largest page of reviewList and its default; largest offset. */
export const MAX_REVIEW_LIMIT = 1_000;
export const DEFAULT_REVIEW_LIMIT = 100;
export const MAX_REVIEW_OFFSET = 100_000;
/** Most alert ids one review query names (ReviewQuery.alertIds): keeps an `IN` list far below ClickHouse's max_query_size. */
export const MAX_REVIEW_ALERT_IDS = 1_000;
/** Most decisions one decide() call takes: one transaction (SQLite), one insert (ClickHouse). */
export const MAX_DECISIONS_PER_CALL = 10_000;

function invalid(message: string, cause?: unknown): DetectionRowError {
  return new DetectionRowError('STORE_INVALID_VALUE', message, cause === undefined ? undefined : { cause });
}

function corrupt(message: string, cause?: unknown): DetectionRowError {
  return new DetectionRowError(
    'STORE_CORRUPT_DATA',
    `${message}: the stored review data was altered outside phi-audit`,
    cause === undefined ? undefined : { cause },
  );
}

const day = (what: string) => z.string().regex(/^\d{4}-\d{2}-\d{2}$/, `${what} must be YYYY-MM-DD`);
const text = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => s.isWellFormed(), 'contains an unpaired UTF-16 surrogate');

const ReviewQuerySchema = z.strictObject({
  tenant: text,
  statuses: z.array(z.enum(ALERT_STATUSES)).min(1, 'statuses must name at least one status').optional(),
  ruleId: text.optional(),
  userId: text.optional(),
  patientId: text.optional(),
  minSeverity: z.enum(SEVERITIES).optional(),
  fromDay: day('fromDay').optional(),
  toDay: day('toDay').optional(),
  alertIds: z
    .array(z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'))
    .min(1, 'alertIds must name at least one alert')
    .max(MAX_REVIEW_ALERT_IDS, `alertIds must name at most ${MAX_REVIEW_ALERT_IDS} alerts`)
    .optional(),
  sort: z.enum(['risk', 'day']).default('risk'),
  limit: z.number().int().min(1).max(MAX_REVIEW_LIMIT).default(DEFAULT_REVIEW_LIMIT),
  offset: z.number().int().min(0).max(MAX_REVIEW_OFFSET).default(0),
});

/** A validated review query: defaults filled in, statuses and alert ids deduplicated. */
export interface CheckedReviewQuery {
  tenant: string;
  statuses?: AlertStatus[] | undefined;
  ruleId?: string | undefined;
  userId?: string | undefined;
  patientId?: string | undefined;
  minSeverity?: Severity | undefined;
  fromDay?: string | undefined;
  toDay?: string | undefined;
  /** Deduplicated, in the order given. */
  alertIds?: string[] | undefined;
  sort: 'risk' | 'day';
  limit: number;
  offset: number;
}

function issues(error: z.ZodError, whole: string): string {
  return error.issues.map((i) => `${i.path.join('.') || whole}: ${i.message}`).join('; ');
}

/** Validates a review query. Throws STORE_INVALID_VALUE naming the bad fields. */
export function parseReviewQuery(query: ReviewQuery): CheckedReviewQuery {
  const parsed = ReviewQuerySchema.safeParse(query, { reportInput: false });
  if (!parsed.success) throw invalid(`invalid review query: ${issues(parsed.error, '(query)')}`, parsed.error);
  const q = parsed.data;
  return {
    ...q,
    statuses: q.statuses === undefined ? undefined : [...new Set(q.statuses)],
    alertIds: q.alertIds === undefined ? undefined : [...new Set(q.alertIds)],
  };
}

/**
 * Validates decisions handed to decide() with AlertDecisionSchema, plus what storage needs (no
 * lone surrogates, bounded identifiers). Throws STORE_INVALID_VALUE naming the decision's
 * position and the field, never the value.
 */
export function checkDecisions(decisions: unknown): AlertDecision[] {
  if (!Array.isArray(decisions)) throw invalid('decisions must be an array');
  if (decisions.length > MAX_DECISIONS_PER_CALL) {
    throw invalid(`at most ${MAX_DECISIONS_PER_CALL} decisions per call`);
  }
  return decisions.map((d: unknown, i) => {
    const parsed = AlertDecisionSchema.safeParse(d, { reportInput: false });
    if (!parsed.success) throw invalid(`decision ${i} is invalid: ${issues(parsed.error, '(decision)')}`, parsed.error);
    const v = parsed.data;
    try {
      checkText('tenant', v.tenant);
      checkText('decidedBy', v.decidedBy);
      if (v.caseId !== undefined) checkText('caseId', v.caseId);
    } catch (err) {
      throw invalid(`decision ${i} is invalid: ${(err as Error).message}`, err);
    }
    if (!v.reason.isWellFormed())
      throw invalid(`decision ${i} is invalid: reason contains an unpaired UTF-16 surrogate`);
    if (!Number.isSafeInteger(v.decidedAt)) throw invalid(`decision ${i} is invalid: decidedAt must be a safe integer`);
    return v;
  });
}

/** A stored decision's columns ('' for no case). */
export interface DecisionColumns {
  decision: string;
  reason: string;
  decided_by: string;
  decided_at: number | string;
  case_id: string;
}

/** A stored decision row back to an AlertDecision; STORE_CORRUPT_DATA when it fails the schema. */
export function decisionFromRow(tenant: string, alertId: string, row: DecisionColumns): AlertDecision {
  const parsed = AlertDecisionSchema.safeParse(
    {
      tenant,
      alertId,
      decision: row.decision,
      reason: row.reason,
      decidedBy: row.decided_by,
      decidedAt: Number(row.decided_at),
      ...(row.case_id === '' ? {} : { caseId: row.case_id }),
    },
    { reportInput: false },
  );
  if (!parsed.success) throw corrupt('a stored alert decision fails validation', parsed.error);
  return parsed.data;
}

/** The status of an alert whose latest decision is `decision` ('' or undefined: none). */
export function statusOf(decision: string | undefined | null): AlertStatus {
  if (decision === undefined || decision === null || decision === '') return 'open';
  if (!(ALERT_STATUSES as readonly string[]).includes(decision) || decision === 'open') {
    throw corrupt('a stored alert decision has an unknown kind');
  }
  return decision as AlertStatus;
}

/** One group of the stores' open-alert summary query: open alerts of one rule, severity rank and age bin. */
export interface OpenSummaryGroup {
  ruleId: string;
  severityRank: number;
  /** Index into OPEN_AGE_BINS (0–3). */
  ageBin: number;
  count: number;
  /** The group's oldest firstEventAt. */
  oldest: number;
}

/**
 * Folds the summary query's groups into reviewSummary's answer (both stores group alike). A
 * severity rank or age bin out of range is a damaged row: STORE_CORRUPT_DATA via `corrupt`.
 */
export function foldOpenSummary(
  groups: readonly OpenSummaryGroup[],
  corrupt: (message: string) => Error,
): Awaited<ReturnType<AlertReviewStore['reviewSummary']>> {
  const byRule: Record<string, number> = {};
  const bySeverity: Partial<Record<Severity, number>> = {};
  const openByAge: OpenAlertAges = { under1d: 0, d1to7: 0, d7to30: 0, over30: 0 };
  let open = 0;
  let oldest: number | undefined;
  for (const g of groups) {
    const severity = SEVERITIES[g.severityRank];
    const bin = OPEN_AGE_BINS[g.ageBin];
    if (severity === undefined) throw corrupt('a stored alert has an unknown severity rank');
    if (bin === undefined) throw corrupt('the open-alert summary returned an unknown age bin');
    open += g.count;
    byRule[g.ruleId] = (byRule[g.ruleId] ?? 0) + g.count;
    bySeverity[severity] = (bySeverity[severity] ?? 0) + g.count;
    openByAge[bin.key] += g.count;
    oldest = oldest === undefined ? g.oldest : Math.min(oldest, g.oldest);
  }
  return { open, byRule, bySeverity, openByAge, ...(oldest === undefined ? {} : { oldestOpenFirstEventAt: oldest }) };
}
