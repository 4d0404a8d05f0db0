import { z } from 'zod';
import type { Alert, Severity } from './alert.js';

/**
 * A privacy officer's review of alerts (issue 6): decisions are appended, never updated, so the
 * history of who decided what, when and why is kept; an alert's status is its latest decision
 * (`open` when it has none): the one with the greatest `decidedAt`, the later stored on a tie, so a
 * decision entered late with an earlier time joins the history without becoming the status.
 * Stored next to the alerts in both stores. No I/O here.
 */

export const ALERT_DECISIONS = ['appropriate', 'false_positive', 'escalated'] as const;
export type AlertDecisionKind = (typeof ALERT_DECISIONS)[number];

/** `open` = no decision yet. */
export const ALERT_STATUSES = ['open', ...ALERT_DECISIONS] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Longest decision reason kept; the reason is required (at least 3 characters after trimming). */
export const MAX_DECISION_REASON_LENGTH = 4000;

export const AlertDecisionSchema = z.strictObject({
  tenant: z.string().min(1),
  alertId: z.string().regex(/^[0-9a-f]{64}$/, 'alertId must be 64 lowercase hex digits'),
  decision: z.enum(ALERT_DECISIONS),
  /** Why: required for every decision (HIPAA review documentation). Free text: never logged. */
  reason: z
    .string()
    .max(MAX_DECISION_REASON_LENGTH)
    .refine((r) => r.trim().length >= 3, 'a reason of at least 3 characters is required'),
  /** The console account that decided. */
  decidedBy: z.string().min(1),
  /** Epoch ms. */
  decidedAt: z.number().int().min(0),
  /** Set when the decision escalated the alert into a case. */
  caseId: z.string().min(1).optional(),
});
export type AlertDecision = z.infer<typeof AlertDecisionSchema>;

/** An alert with its review state. */
export interface ReviewedAlert {
  alert: Alert;
  status: AlertStatus;
  /** The latest decision, if any. */
  decision?: AlertDecision;
}

/** Filters of the review list; every given field must match. */
export interface ReviewQuery {
  tenant: string;
  statuses?: readonly AlertStatus[];
  ruleId?: string;
  userId?: string;
  patientId?: string;
  minSeverity?: Severity;
  fromDay?: string;
  toDay?: string;
  /**
   * Only these alerts (each 64 lowercase hex digits; 1 to 1000, duplicates ignored): one query
   * for a known set, such as a case's alerts, instead of one look-up per alert. Ids that are not
   * alerts of the tenant are left out, never an error; the other filters, sort and paging still
   * apply (pass `limit` ≥ the number of ids to get them all).
   */
  alertIds?: readonly string[];
  /** Default `risk`: risk descending, then day descending, then alertId. `day`: day descending, then risk. */
  sort?: 'risk' | 'day';
  /** Default 100, at most 1000. */
  limit?: number;
  /** Rows to skip (paging). Default 0, at most 100,000. */
  offset?: number;
}

/** Open alerts by the age of their first event: under 1 day, 1–7 days, 7–30 days, 30 days or more. */
export interface OpenAlertAges {
  under1d: number;
  d1to7: number;
  d7to30: number;
  over30: number;
}

/** The bins of OpenAlertAges in order, with each one's upper bound in days (the last has none). */
export const OPEN_AGE_BINS = [
  { key: 'under1d', belowDays: 1 },
  { key: 'd1to7', belowDays: 7 },
  { key: 'd7to30', belowDays: 30 },
  { key: 'over30', belowDays: Number.POSITIVE_INFINITY },
] as const satisfies readonly { key: keyof OpenAlertAges; belowDays: number }[];

const DAY_MS = 86_400_000;

/**
 * The lower bounds on firstEventAt of the first three bins on `now` (an alert is in bin i when its
 * firstEventAt is greater than bound i and not greater than bound i-1; a first event in the future
 * counts as under a day). The stores put these in their SQL.
 */
export function openAgeBounds(now: number): [number, number, number] {
  return [now - 1 * DAY_MS, now - 7 * DAY_MS, now - 30 * DAY_MS];
}

/** The OpenAlertAges bin of an alert whose first event was at `firstEventAt`, on `now`. */
export function openAgeBin(firstEventAt: number, now: number): keyof OpenAlertAges {
  const [d1, d7, d30] = openAgeBounds(now);
  return firstEventAt > d1 ? 'under1d' : firstEventAt > d7 ? 'd1to7' : firstEventAt > d30 ? 'd7to30' : 'over30';
}

export interface AlertReviewStore {
  /**
   * Appends decisions, all or nothing. Each must name an alert stored for its tenant
   * (STORE_UNKNOWN_ALERT otherwise, nothing stored).
   */
  decide(decisions: readonly AlertDecision[]): Promise<void>;
  /** Every decision of one alert of the tenant, oldest first. */
  decisions(tenant: string, alertId: string): Promise<AlertDecision[]>;
  /** Alerts with their status, filtered, sorted and paged as ReviewQuery says; `total` ignores limit/offset. */
  reviewList(query: ReviewQuery): Promise<{ total: number; items: ReviewedAlert[] }>;
  /**
   * Open alerts per rule, per severity and by age (openAgeBin of their firstEventAt on `now`,
   * default the store's clock), and the oldest open alert's firstEventAt (for the dashboard).
   * Aggregated in the store: one query however large the backlog.
   */
  reviewSummary(
    tenant: string,
    now?: number,
  ): Promise<{
    open: number;
    byRule: Record<string, number>;
    bySeverity: Partial<Record<Severity, number>>;
    openByAge: OpenAlertAges;
    oldestOpenFirstEventAt?: number;
  }>;
}
