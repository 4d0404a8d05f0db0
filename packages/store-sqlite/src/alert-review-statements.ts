import { ALERT_COLUMNS } from './detection-statements.js';

/**
 * The SQL of the alert review (issue 6) on `detection.sqlite`. Values only ever arrive as bound
 * parameters. Decisions are appended, never updated: an alert's status is its latest decision,
 * latest by (decided_at, seq), seq counting the alert's decisions in the order they were stored.
 */

/** Migration 2 of the detection database: the append-only decisions. case_id '' = no case. */
export const CREATE_ALERT_DECISIONS_TABLE = [
  `CREATE TABLE alert_decisions (
    tenant TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    case_id TEXT NOT NULL,
    PRIMARY KEY (tenant, alert_id, seq)
) STRICT`,
] as const;

export const SELECT_ALERT_EXISTS = 'SELECT 1 AS found FROM alerts WHERE tenant = ? AND alert_id = ?';

export const SELECT_MAX_DECISION_SEQ =
  'SELECT coalesce(max(seq), 0) AS seq FROM alert_decisions WHERE tenant = ? AND alert_id = ?';

export const INSERT_DECISION = `INSERT INTO alert_decisions
    (tenant, alert_id, seq, decision, reason, decided_by, decided_at, case_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/** Columns a decision read returns. */
const DECISION_COLUMNS = 'decision, reason, decided_by, decided_at, case_id';

export const SELECT_DECISIONS = `SELECT ${DECISION_COLUMNS}
FROM alert_decisions
WHERE tenant = ? AND alert_id = ?
ORDER BY decided_at, seq`;

/** `column` is one of the JSON array of alert ids bound here: one parameter however many ids. */
const inIdList = (column: string) => `${column} IN (SELECT value FROM json_each(?))`;

/**
 * The latest decision of each decided alert of the tenant (bound: tenant, then the JSON id list
 * when `alertIds`: only those alerts' decisions are ranked). A window function, so the alerts'
 * join below reads one row per alert.
 */
const latest = (alertIds: boolean) => `latest AS (
    SELECT alert_id, ${DECISION_COLUMNS},
        row_number() OVER (PARTITION BY alert_id ORDER BY decided_at DESC, seq DESC) AS rank_of
    FROM alert_decisions
    WHERE tenant = ?${alertIds ? ` AND ${inIdList('alert_id')}` : ''}
)`;

/** Filters of reviewList, each present only when the query has it. */
export interface ReviewFilters {
  /** How many statuses the IN list binds (0: no status filter). */
  statuses: number;
  fromDay: boolean;
  toDay: boolean;
  ruleId: boolean;
  userId: boolean;
  patientId: boolean;
  minSeverity: boolean;
  /** Only the alerts of a JSON array of ids (bound twice: in the latest-decision CTE and the filter). Default false. */
  alertIds?: boolean;
}

function reviewFrom(f: ReviewFilters): string {
  const where = ['a.tenant = ?'];
  if (f.alertIds) where.push(inIdList('a.alert_id'));
  if (f.fromDay) where.push('a.day >= ?');
  if (f.toDay) where.push('a.day <= ?');
  if (f.ruleId) where.push('a.rule_id = ?');
  if (f.userId) where.push('a.user_id = ?');
  if (f.patientId) where.push('a.patient_id = ?');
  if (f.minSeverity) where.push('a.severity_rank >= ?');
  if (f.statuses > 0) where.push(`coalesce(l.decision, 'open') IN (${Array(f.statuses).fill('?').join(', ')})`);
  return `FROM alerts a LEFT JOIN latest l ON l.alert_id = a.alert_id AND l.rank_of = 1
WHERE ${where.join(' AND ')}`;
}

/**
 * One page of the review list. Bound: tenant (latest), the JSON id list (latest, when
 * alertIds), tenant, the JSON id list again (when alertIds), each other present filter in
 * ReviewFilters order with the statuses last, then limit and offset. `risk`: risk descending,
 * day descending, alert id; `day`: day descending, risk descending, alert id.
 */
export function selectReviewPage(f: ReviewFilters, sort: 'risk' | 'day'): string {
  const order = sort === 'risk' ? 'a.risk_score DESC, a.day DESC' : 'a.day DESC, a.risk_score DESC';
  return `WITH ${latest(f.alertIds === true)}
SELECT ${ALERT_COLUMNS.map((c) => `a.${c}`).join(', ')},
    l.decision AS latest_decision, l.reason AS latest_reason, l.decided_by AS latest_decided_by,
    l.decided_at AS latest_decided_at, l.case_id AS latest_case_id
${reviewFrom(f)}
ORDER BY ${order}, a.alert_id
LIMIT ? OFFSET ?`;
}

/** How many alerts the review list has without limit and offset; bound like selectReviewPage minus limit and offset. */
export function countReview(f: ReviewFilters): string {
  return `WITH ${latest(f.alertIds === true)}
SELECT count(*) AS total
${reviewFrom(f)}`;
}

/**
 * Open (never decided) alerts of the tenant per rule, severity rank and age bin (0–3, the bins of
 * OpenAlertAges), with their oldest first event. Bound: the three openAgeBounds, then tenant.
 */
export const SELECT_OPEN_SUMMARY = `SELECT rule_id, severity_rank,
    CASE WHEN first_event_at > ? THEN 0 WHEN first_event_at > ? THEN 1 WHEN first_event_at > ? THEN 2 ELSE 3 END AS age_bin,
    count(*) AS open_count, min(first_event_at) AS oldest
FROM alerts a
WHERE a.tenant = ? AND NOT EXISTS (
    SELECT 1 FROM alert_decisions d WHERE d.tenant = a.tenant AND d.alert_id = a.alert_id
)
GROUP BY rule_id, severity_rank, age_bin
ORDER BY rule_id, severity_rank, age_bin`;
