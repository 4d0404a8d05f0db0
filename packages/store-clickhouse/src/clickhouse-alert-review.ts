import { randomInt } from 'node:crypto';
import {
  checkText,
  foldOpenSummary,
  openAgeBounds,
  severityRank,
  type AlertDecision,
  type AlertReviewStore,
  type ReviewQuery,
  type ReviewedAlert,
  checkDecisions,
  decisionFromRow,
  parseReviewQuery,
  statusOf,
} from '@phi-audit/rules';
import * as sql from './alert-review-statements.js';
import { foldRow, type AlertRowText, type StoredAlert } from './detection-folds.js';
import { selectAlertRows } from './detection-statements.js';
import { StoreError, checkedValues } from './errors.js';
import type { DetectionTableAccess } from './detection-table-access.js';
import { lookupSettingsFor, READ_SETTINGS } from './query-settings.js';

/** Alert ids per existence or seq lookup: far below max_query_size. */
const IDS_PER_LOOKUP = 1_000;

type LatestRow = {
  alert_id: string;
  latest_decision: string;
  latest_reason: string;
  latest_decided_by: string;
  latest_decided_at: string;
  latest_case_id: string;
};

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The AlertReviewStore of the ClickHouse detection store (table of migration 4). ClickHouse has
 * no transactions, so decide() checks every named alert first and then writes all decisions in
 * one INSERT (one block, one part: all or nothing). The review list picks the page's ids in SQL
 * (filters, status through `IN` subqueries on the latest decision, order, limit and offset), counts
 * the matches unless that page shows the total, then reads those alerts and their latest
 * decisions; a decision stored between those reads can show a status newer than the one the page
 * was filtered by.
 */
export function createClickHouseAlertReview(options: DetectionTableAccess): AlertReviewStore {
  const { database: db, logger, select, insert } = options;

  /** Throws STORE_UNKNOWN_ALERT unless every id is a stored alert; returns each id's highest seq so far. */
  async function prepareTenant(tenant: string, ids: readonly string[]): Promise<Map<string, number>> {
    const seqs = new Map<string, number>();
    for (const chunk of chunks(ids, IDS_PER_LOOKUP)) {
      const known = new Set(
        (await select<{ alert_id: string }>(sql.selectKnownAlertIds(db, tenant, chunk), 'checking alerts exist')).map(
          (r) => r.alert_id,
        ),
      );
      if (chunk.some((id) => !known.has(id))) {
        throw new StoreError(
          'STORE_UNKNOWN_ALERT',
          'a decision names no stored alert of its tenant; no decision of the call was stored',
        );
      }
      const rows = await select<{ alert_id: string; top_seq: string }>(
        sql.selectMaxDecisionSeqs(db, tenant, chunk),
        'reading decision sequence numbers',
      );
      for (const r of rows) seqs.set(r.alert_id, Number(r.top_seq));
    }
    return seqs;
  }

  return {
    async decide(decisions: readonly AlertDecision[]): Promise<void> {
      const list = checkedValues(() => checkDecisions(decisions));
      if (list.length === 0) return;
      const byTenant = new Map<string, Set<string>>();
      for (const d of list) {
        let ids = byTenant.get(d.tenant);
        if (ids === undefined) byTenant.set(d.tenant, (ids = new Set<string>()));
        ids.add(d.alertId);
      }
      const seqs = new Map<string, Map<string, number>>();
      for (const [tenant, ids] of byTenant) seqs.set(tenant, await prepareTenant(tenant, [...ids]));
      const now = Date.now();
      const rows = list.map((d) => {
        const ofTenant = seqs.get(d.tenant)!;
        const seq = (ofTenant.get(d.alertId) ?? 0) + 1;
        ofTenant.set(d.alertId, seq);
        return {
          tenant: d.tenant,
          alert_id: d.alertId,
          decided_at: d.decidedAt,
          seq,
          // 48 random bits: the tiebreak of two writers that gave one alert the same seq.
          nonce: randomInt(0, 2 ** 48 - 1),
          decision: d.decision,
          reason: d.reason,
          decided_by: d.decidedBy,
          case_id: d.caseId ?? '',
          stored_at: now,
        };
      });
      await insert(sql.alertDecisionsTable(db), sql.DECISION_COLUMNS, rows, 'insert of alert decisions');
      logger.info({ decisions: rows.length }, 'stored alert decisions');
    },

    async decisions(tenant: string, alertId: string): Promise<AlertDecision[]> {
      const t = checkedValues(() => checkText('tenant', tenant));
      const id = checkedValues(() => checkText('alertId', alertId));
      const rows = await select<Parameters<typeof decisionFromRow>[2]>(
        sql.selectDecisions(db, t, id),
        'reading alert decisions',
      );
      return checkedValues(() => rows.map((r) => decisionFromRow(t, id, r)));
    },

    async reviewList(query: ReviewQuery): Promise<{ total: number; items: ReviewedAlert[] }> {
      const q = checkedValues(() => parseReviewQuery(query));
      const filter: sql.ReviewFilter = {
        tenant: q.tenant,
        statuses: q.statuses,
        fromDay: q.fromDay,
        toDay: q.toDay,
        ruleId: q.ruleId,
        userId: q.userId,
        patientId: q.patientId,
        minSeverityRank: q.minSeverity === undefined ? undefined : severityRank(q.minSeverity),
        alertIds: q.alertIds,
      };
      // With alertIds the texts carry an id list: max_query_size is raised to fit, as for lookups.
      const pageQuery = sql.selectReviewPage(db, filter, q);
      const ids = (
        await select<{ alert_id: string }>(pageQuery, 'listing alerts for review', {
          ...lookupSettingsFor(Buffer.byteLength(pageQuery)),
        })
      ).map((r) => r.alert_id);
      // A first page that is not full, or that holds every id asked for, is the whole list: no
      // count query (a case page or a bulk look-up is then three queries, not four).
      const whole = q.offset === 0 && (ids.length < q.limit || ids.length === q.alertIds?.length);
      let total = ids.length;
      if (!whole) {
        const countQuery = sql.countReview(db, filter);
        const [count] = await select<{ total: string }>(countQuery, 'counting alerts for review', {
          ...lookupSettingsFor(Buffer.byteLength(countQuery)),
        });
        total = Number(count?.total ?? 0);
      }
      if (ids.length === 0) return { total, items: [] };
      const alertQuery = selectAlertRows(db, new Map([[q.tenant, ids]]));
      const alertRows = await select<AlertRowText>(alertQuery, 'reading alerts for review', {
        ...lookupSettingsFor(Buffer.byteLength(alertQuery)),
      });
      const latestQuery = sql.selectLatestDecisions(db, q.tenant, ids);
      const latest = await select<LatestRow>(latestQuery, 'reading latest decisions', {
        ...lookupSettingsFor(Buffer.byteLength(latestQuery)),
      });
      return checkedValues(() => {
        const folded = new Map<string, StoredAlert>();
        for (const row of alertRows) foldRow(folded, q.tenant, row);
        const byId = new Map(latest.map((r) => [r.alert_id, r]));
        const items = ids.flatMap((id): ReviewedAlert[] => {
          const alert = folded.get(id)?.alert;
          if (alert === undefined) return [];
          const l = byId.get(id);
          if (l === undefined) return [{ alert, status: 'open' }];
          const decision = decisionFromRow(q.tenant, id, {
            decision: l.latest_decision,
            reason: l.latest_reason,
            decided_by: l.latest_decided_by,
            decided_at: l.latest_decided_at,
            case_id: l.latest_case_id,
          });
          return [{ alert, status: statusOf(l.latest_decision), decision }];
        });
        return { total, items };
      });
    },

    async reviewSummary(tenant: string, now: number = Date.now()) {
      const t = checkedValues(() => checkText('tenant', tenant));
      const rows = await select<{
        rule_id: string;
        top_rank: number;
        age_bin: number;
        open_count: string;
        oldest_first: string;
      }>(sql.selectOpenSummary(db, t, openAgeBounds(now)), 'summarising open alerts', READ_SETTINGS);
      const groups = rows.map((r) => ({
        ruleId: r.rule_id,
        severityRank: Number(r.top_rank),
        ageBin: Number(r.age_bin),
        count: Number(r.open_count),
        oldest: Number(r.oldest_first),
      }));
      return foldOpenSummary(groups, (m) => new StoreError('STORE_CORRUPT_DATA', m));
    },
  };
}
