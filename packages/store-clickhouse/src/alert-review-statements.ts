import { alertsTable } from './detection-statements.js';
import { quoteIdentifier, quoteString, quoteUInt } from './sql-literal.js';

/**
 * The SQL of the alert review (issue 6), as pure builders shared with sqlCatalog(). Values go
 * through sql-literal.ts only; nothing here may use syntax newer than 18.16.1 (no JOIN: the
 * status filter is `IN` subqueries; no window functions: the latest decision is argMax). Aliases
 * never repeat a column name.
 *
 * Decisions are appended, never updated. The latest decision of an alert is the one with the
 * greatest (decided_at, seq, nonce): seq is the alert's previous highest seq + 1 (the order
 * stored), nonce a random tiebreak, so two writers racing on one alert still give one
 * deterministic latest decision.
 */

/** Columns of `alert_decisions`, in table order (also the JSONEachRow keys of its insert). */
export const DECISION_COLUMNS = [
  'tenant',
  'alert_id',
  'decided_at',
  'seq',
  'nonce',
  'decision',
  'reason',
  'decided_by',
  'case_id',
  'stored_at',
] as const;

/** Migration 4: the append-only decisions ('' case_id = no case). Sorted so one alert's history is one range. */
export function createAlertDecisionsTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.alert_decisions (
    tenant String,
    alert_id String,
    decided_at UInt64,
    seq UInt64,
    nonce UInt64,
    decision String,
    reason String,
    decided_by String,
    case_id String,
    stored_at UInt64
) ENGINE = MergeTree
ORDER BY (tenant, alert_id, decided_at, seq, nonce)`;
}

export const alertDecisionsTable = (database: string): string => `${quoteIdentifier(database)}.alert_decisions`;

/** The text @clickhouse/client sends for the decisions insert (data follows on the next line). */
export function insertDecisionsQuery(database: string): string {
  return `INSERT INTO ${alertDecisionsTable(database)} (${DECISION_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}

const idList = (ids: readonly string[]): string => ids.map(quoteString).join(', ');

/** Which of `ids` (not empty) are stored alerts of the tenant. */
export function selectKnownAlertIds(database: string, tenant: string, ids: readonly string[]): string {
  return `SELECT DISTINCT alert_id
FROM ${alertsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND alert_id IN (${idList(ids)})`;
}

/** The highest seq stored per alert among `ids` (not empty) that have decisions. */
export function selectMaxDecisionSeqs(database: string, tenant: string, ids: readonly string[]): string {
  return `SELECT alert_id, toString(max(seq)) AS top_seq
FROM ${alertDecisionsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND alert_id IN (${idList(ids)})
GROUP BY alert_id`;
}

/** Every decision of one alert, oldest first; identical rows of a retried insert collapse. */
export function selectDecisions(database: string, tenant: string, alertId: string): string {
  return `SELECT DISTINCT decided_at, seq, nonce, decision, reason, decided_by, case_id
FROM ${alertDecisionsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND alert_id = ${quoteString(alertId)}
ORDER BY decided_at, seq, nonce`;
}

const LATEST_KEY = '(decided_at, seq, nonce)';

/** The latest decision of each of `ids` (not empty) that has one. */
export function selectLatestDecisions(database: string, tenant: string, ids: readonly string[]): string {
  return `SELECT alert_id,
    argMax(decision, ${LATEST_KEY}) AS latest_decision,
    argMax(reason, ${LATEST_KEY}) AS latest_reason,
    argMax(decided_by, ${LATEST_KEY}) AS latest_decided_by,
    toString(argMax(decided_at, ${LATEST_KEY})) AS latest_decided_at,
    argMax(case_id, ${LATEST_KEY}) AS latest_case_id
FROM ${alertDecisionsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND alert_id IN (${idList(ids)})
GROUP BY alert_id`;
}

/** Filters of the review list; days inclusive, minSeverityRank a severity rank, statuses deduplicated. */
export interface ReviewFilter {
  tenant: string;
  statuses?: readonly string[] | undefined;
  fromDay?: string | undefined;
  toDay?: string | undefined;
  ruleId?: string | undefined;
  userId?: string | undefined;
  patientId?: string | undefined;
  minSeverityRank?: number | undefined;
  /** Only these alerts (not empty when set; at most MAX_REVIEW_ALERT_IDS). */
  alertIds?: readonly string[] | undefined;
}

/** The condition on alert_id of a status filter: never decided (open) or latest decision among the others. */
function statusCondition(database: string, tenant: string, statuses: readonly string[]): string {
  const t = quoteString(tenant);
  const table = alertDecisionsTable(database);
  const terms: string[] = [];
  if (statuses.includes('open')) terms.push(`alert_id NOT IN (SELECT alert_id FROM ${table} WHERE tenant = ${t})`);
  const decided = statuses.filter((s) => s !== 'open');
  if (decided.length > 0) {
    terms.push(`alert_id IN (
        SELECT alert_id
        FROM (
            SELECT alert_id, argMax(decision, ${LATEST_KEY}) AS latest_decision
            FROM ${table}
            WHERE tenant = ${t}
            GROUP BY alert_id
        )
        WHERE latest_decision IN (${decided.map(quoteString).join(', ')})
    )`);
  }
  return `(${terms.join(' OR ')})`;
}

/**
 * One row per alert id matching the filter: its day, and its maximum risk and severity over its
 * stored rows, which are the merged alert's (mergeAlert keeps the maximum of both).
 */
function reviewCandidates(database: string, f: ReviewFilter): string {
  const where = [`tenant = ${quoteString(f.tenant)}`];
  if (f.fromDay !== undefined) where.push(`day >= ${quoteString(f.fromDay)}`);
  if (f.toDay !== undefined) where.push(`day <= ${quoteString(f.toDay)}`);
  if (f.ruleId !== undefined) where.push(`rule_id = ${quoteString(f.ruleId)}`);
  if (f.userId !== undefined) where.push(`user_id = ${quoteString(f.userId)}`);
  if (f.patientId !== undefined) where.push(`patient_id = ${quoteString(f.patientId)}`);
  if (f.alertIds !== undefined) where.push(`alert_id IN (${idList(f.alertIds)})`);
  if (f.statuses !== undefined && f.statuses.length > 0) {
    where.push(statusCondition(database, f.tenant, f.statuses));
  }
  const having = f.minSeverityRank === undefined ? '' : `\n    HAVING top_rank >= ${quoteUInt(f.minSeverityRank)}`;
  return `SELECT alert_id, any(day) AS alert_day, max(risk_score) AS top_risk, max(severity_rank) AS top_rank
    FROM ${alertsTable(database)}
    WHERE ${where.join(' AND ')}
    GROUP BY alert_id${having}`;
}

/** The alert ids of one review page, in page order. `risk`: risk, day, id; `day`: day, risk, id. */
export function selectReviewPage(
  database: string,
  f: ReviewFilter,
  page: { sort: 'risk' | 'day'; limit: number; offset: number },
): string {
  const order = page.sort === 'risk' ? 'top_risk DESC, alert_day DESC' : 'alert_day DESC, top_risk DESC';
  return `SELECT alert_id
FROM (
    ${reviewCandidates(database, f)}
)
ORDER BY ${order}, alert_id
LIMIT ${quoteUInt(page.offset)}, ${quoteUInt(page.limit)}`;
}

/** How many alerts match the filter (the review list's total). */
export function countReview(database: string, f: ReviewFilter): string {
  return `SELECT toString(count()) AS total
FROM (
    ${reviewCandidates(database, f)}
)`;
}

/**
 * Never-decided alerts of the tenant per rule, severity rank and age bin (0–3, the bins of
 * OpenAlertAges on the bounds given, openAgeBounds), with their oldest first event.
 */
export function selectOpenSummary(database: string, tenant: string, bounds: readonly [number, number, number]): string {
  const t = quoteString(tenant);
  const [d1, d7, d30] = bounds.map((b) => quoteUInt(Math.max(0, b)));
  return `SELECT rule_id, top_rank, multiIf(first_at > ${d1}, 0, first_at > ${d7}, 1, first_at > ${d30}, 2, 3) AS age_bin,
    toString(count()) AS open_count, toString(min(first_at)) AS oldest_first
FROM (
    SELECT alert_id, rule_id, max(severity_rank) AS top_rank, min(first_event_at) AS first_at
    FROM ${alertsTable(database)}
    WHERE tenant = ${t} AND alert_id NOT IN (SELECT alert_id FROM ${alertDecisionsTable(database)} WHERE tenant = ${t})
    GROUP BY alert_id, rule_id
)
GROUP BY rule_id, top_rank, age_bin
ORDER BY rule_id, top_rank, age_bin`;
}
