import type Database from 'better-sqlite3';
import {
  alertFromJson,
  assertColumnsMatch,
  checkText,
  foldOpenSummary,
  openAgeBounds,
  severityRank,
  type AlertColumns,
  type AlertDecision,
  type AlertReviewStore,
  type ReviewQuery,
  type ReviewedAlert,
  checkDecisions,
  decisionFromRow,
  parseReviewQuery,
  statusOf,
} from '@phi-audit/rules';
import type { Logger } from 'pino';
import * as sql from './alert-review-statements.js';
import { StoreError, checkedValues } from './errors.js';

/** What the review needs from the detection store: its connection and its transaction wrappers. */
export interface SqliteAlertReviewOptions {
  db: Database.Database;
  logger: Logger;
  /** Runs `fn` in one read transaction (STORE_QUERY_FAILED on failure). */
  read: <T>(what: string, fn: () => T) => T;
  /** Runs `fn` in one IMMEDIATE transaction (StoreErrors pass through; STORE_FULL, STORE_INSERT_FAILED). */
  write: <T>(what: string, fn: () => T) => T;
}

type PageRow = AlertColumns & {
  tenant: string;
  alert_id: string;
  alert_json: string;
  latest_decision: string | null;
  latest_reason: string | null;
  latest_decided_by: string | null;
  latest_decided_at: number | null;
  latest_case_id: string | null;
};

type DecisionRow = { decision: string; reason: string; decided_by: string; decided_at: number; case_id: string };

/**
 * The AlertReviewStore of the SQLite detection store, on the same connection: decisions in
 * `alert_decisions` (migration 2), appended in one IMMEDIATE transaction per call; the review list
 * is one SQL join of the alerts with each one's latest decision, counted by a second statement in
 * the same read transaction.
 */
export function createSqliteAlertReview(options: SqliteAlertReviewOptions): AlertReviewStore {
  const { db, logger, read, write } = options;
  const stmt = {
    exists: db.prepare<[string, string], { found: number }>(sql.SELECT_ALERT_EXISTS),
    maxSeq: db.prepare<[string, string], { seq: number }>(sql.SELECT_MAX_DECISION_SEQ),
    insert: db.prepare<[string, string, number, string, string, string, number, string]>(sql.INSERT_DECISION),
    decisions: db.prepare<[string, string], DecisionRow>(sql.SELECT_DECISIONS),
    summary: db.prepare<
      [number, number, number, string],
      { rule_id: string; severity_rank: number; age_bin: number; open_count: number; oldest: number }
    >(sql.SELECT_OPEN_SUMMARY),
  };
  const pages = new Map<string, Database.Statement<unknown[], PageRow>>();
  const counts = new Map<string, Database.Statement<unknown[], { total: number }>>();
  const prepared = <R>(cache: Map<string, Database.Statement<unknown[], R>>, text: string) => {
    let s = cache.get(text);
    if (s === undefined) cache.set(text, (s = db.prepare<unknown[], R>(text)));
    return s;
  };

  return {
    decide(decisions: readonly AlertDecision[]): Promise<void> {
      const list = checkedValues(() => checkDecisions(decisions));
      if (list.length === 0) return Promise.resolve();
      write(`storing ${list.length} alert decisions`, () => {
        list.forEach((d, i) => {
          if (stmt.exists.get(d.tenant, d.alertId) === undefined) {
            throw new StoreError(
              'STORE_UNKNOWN_ALERT',
              `decision ${i} names no stored alert of its tenant; no decision of the call was stored`,
            );
          }
          const seq = (stmt.maxSeq.get(d.tenant, d.alertId)?.seq ?? 0) + 1;
          stmt.insert.run(d.tenant, d.alertId, seq, d.decision, d.reason, d.decidedBy, d.decidedAt, d.caseId ?? '');
        });
      });
      logger.info({ decisions: list.length }, 'stored alert decisions');
      return Promise.resolve();
    },

    decisions(tenant: string, alertId: string): Promise<AlertDecision[]> {
      const t = checkedValues(() => checkText('tenant', tenant));
      const id = checkedValues(() => checkText('alertId', alertId));
      const rows = read('reading alert decisions', () => stmt.decisions.all(t, id));
      return Promise.resolve(checkedValues(() => rows.map((r) => decisionFromRow(t, id, r))));
    },

    reviewList(query: ReviewQuery): Promise<{ total: number; items: ReviewedAlert[] }> {
      const q = checkedValues(() => parseReviewQuery(query));
      const filters: sql.ReviewFilters = {
        statuses: q.statuses?.length ?? 0,
        fromDay: q.fromDay !== undefined,
        toDay: q.toDay !== undefined,
        ruleId: q.ruleId !== undefined,
        userId: q.userId !== undefined,
        patientId: q.patientId !== undefined,
        minSeverity: q.minSeverity !== undefined,
        alertIds: q.alertIds !== undefined,
      };
      const ids = q.alertIds === undefined ? [] : [JSON.stringify(q.alertIds)];
      const params: unknown[] = [q.tenant, ...ids, q.tenant, ...ids];
      for (const value of [q.fromDay, q.toDay, q.ruleId, q.userId, q.patientId]) {
        if (value !== undefined) params.push(value);
      }
      if (q.minSeverity !== undefined) params.push(severityRank(q.minSeverity));
      params.push(...(q.statuses ?? []));
      const { total, rows } = read('listing alerts for review', () => ({
        total: prepared(counts, sql.countReview(filters)).get(...params)?.total ?? 0,
        rows: prepared(pages, sql.selectReviewPage(filters, q.sort)).all(...params, q.limit, q.offset),
      }));
      const items = checkedValues(() => rows.map(reviewedFromRow));
      return Promise.resolve({ total, items });
    },

    reviewSummary(tenant: string, now: number = Date.now()) {
      const t = checkedValues(() => checkText('tenant', tenant));
      const rows = read('summarising open alerts', () => stmt.summary.all(...openAgeBounds(now), t));
      const groups = rows.map((r) => ({
        ruleId: r.rule_id,
        severityRank: r.severity_rank,
        ageBin: r.age_bin,
        count: r.open_count,
        oldest: r.oldest,
      }));
      return Promise.resolve(foldOpenSummary(groups, (m) => new StoreError('STORE_CORRUPT_DATA', m)));
    },
  };
}

function reviewedFromRow(row: PageRow): ReviewedAlert {
  const alert = alertFromJson(row.alert_json, { tenant: row.tenant, alertId: row.alert_id });
  assertColumnsMatch(alert, row);
  const status = statusOf(row.latest_decision);
  if (row.latest_decision === null) return { alert, status };
  const decision = decisionFromRow(row.tenant, row.alert_id, {
    decision: row.latest_decision,
    reason: row.latest_reason ?? '',
    decided_by: row.latest_decided_by ?? '',
    decided_at: row.latest_decided_at ?? -1,
    case_id: row.latest_case_id ?? '',
  });
  return { alert, status, decision };
}
