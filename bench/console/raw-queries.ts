import { createClient } from '@clickhouse/client';
import { quoteString } from '@phi-audit/store-clickhouse';
import Database from 'better-sqlite3';
// The baseline runs the stores' own SQL text (their statement builders), not a copy of it.
import * as chReview from '../../packages/store-clickhouse/src/alert-review-statements.js';
import { selectAlertRows } from '../../packages/store-clickhouse/src/detection-statements.js';
import { lookupSettingsFor, READ_SETTINGS } from '../../packages/store-clickhouse/src/query-settings.js';
import { selectAccessesByPatient, selectAccessVolume } from '../../packages/store-clickhouse/src/statements.js';
import {
  countReview,
  selectReviewPage,
  type ReviewFilters,
} from '../../packages/store-sqlite/src/alert-review-statements.js';
import { SELECT_ACCESS_VOLUME_DAY, SELECT_ACCESSES_BY_PATIENT } from '../../packages/store-sqlite/src/statements.js';

/**
 * The console benchmark's baseline: the SQL a store runs for a console request, sent straight to
 * the database (better-sqlite3 on the same files, @clickhouse/client on the same database) with
 * the same parameters, rows read and parsed but not mapped, validated or served. Each method
 * resolves with the rows it read, so the caller can check the baseline did the same work.
 */
export interface RawQueries {
  /** The store's accessesByPatient statement. */
  accessesByPatient(q: {
    tenant: string;
    patientId: string;
    from?: number;
    to?: number;
    limit: number;
  }): Promise<number>;
  /** reviewList's statements for the default page (no filter), in the store's order. */
  alertList(q: { tenant: string; limit: number; offset: number; sort: 'risk' | 'day' }): Promise<number>;
  /** The store's daily access-volume statement (the dashboard's chart), `from` already day-aligned. */
  accessVolumeByDay(q: { tenant: string; from: number; to: number }): Promise<number>;
  /** `n` patients of random EHR events of the tenant (so weighted by how often each is accessed). */
  samplePatients(tenant: string, n: number): Promise<string[]>;
  close(): Promise<void>;
}

const NO_FILTERS: ReviewFilters = {
  statuses: 0,
  fromDay: false,
  toDay: false,
  ruleId: false,
  userId: false,
  patientId: false,
  minSeverity: false,
};

/** Read-only connections to the SQLite ledger and detection files the store uses. */
export function createSqliteRawQueries(files: { ledger: string; detection: string }): RawQueries {
  const ledger = new Database(files.ledger, { readonly: true });
  const detection = new Database(files.detection, { readonly: true });
  const byPatient = ledger.prepare<[string, string, number, number, number]>(SELECT_ACCESSES_BY_PATIENT);
  const volumeByDay = ledger.prepare<[string, number, number]>(SELECT_ACCESS_VOLUME_DAY);
  const count = detection.prepare<[string, string], { total: number }>(countReview(NO_FILTERS));
  const pages = {
    risk: detection.prepare<[string, string, number, number]>(selectReviewPage(NO_FILTERS, 'risk')),
    day: detection.prepare<[string, string, number, number]>(selectReviewPage(NO_FILTERS, 'day')),
  };
  return {
    accessesByPatient: (q) =>
      Promise.resolve(
        byPatient.all(q.tenant, q.patientId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit).length,
      ),
    accessVolumeByDay: (q) => Promise.resolve(volumeByDay.all(q.tenant, q.from, q.to).length),
    alertList: (q) => {
      // The store reads both in one read transaction.
      const rows = detection.transaction(() => {
        count.get(q.tenant, q.tenant);
        return pages[q.sort].all(q.tenant, q.tenant, q.limit, q.offset);
      })();
      return Promise.resolve(rows.length);
    },
    samplePatients: (tenant, n) =>
      Promise.resolve(
        ledger
          .prepare<[string, number], { patient_id: string }>(
            `SELECT patient_id FROM access_log WHERE tenant = ? AND patient_id != '' AND source_system = 'ehr'
             ORDER BY random() LIMIT ?`,
          )
          .all(tenant, n)
          .map((r) => r.patient_id),
      ),
    close: () => {
      ledger.close();
      detection.close();
      return Promise.resolve();
    },
  };
}

/** A plain @clickhouse/client on the store's database, with the store's read settings. */
export function createClickHouseRawQueries(url: string, database: string): RawQueries {
  const client = createClient({ url, database });
  const select = async <T>(query: string, settings: Record<string, string | number> = READ_SETTINGS): Promise<T[]> => {
    const rs = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: settings });
    return rs.json<T>();
  };
  return {
    accessesByPatient: async (q) => (await select(selectAccessesByPatient(database, q))).length,
    accessVolumeByDay: async (q) => (await select(selectAccessVolume(database, { ...q, width: 86_400_000 }))).length,
    alertList: async (q) => {
      const filter = { tenant: q.tenant };
      await select(chReview.countReview(database, filter));
      const ids = (await select<{ alert_id: string }>(chReview.selectReviewPage(database, filter, q))).map(
        (r) => r.alert_id,
      );
      if (ids.length === 0) return 0;
      const alertQuery = selectAlertRows(database, new Map([[q.tenant, ids]]));
      await select(alertQuery, lookupSettingsFor(Buffer.byteLength(alertQuery)));
      const latestQuery = chReview.selectLatestDecisions(database, q.tenant, ids);
      await select(latestQuery, lookupSettingsFor(Buffer.byteLength(latestQuery)));
      return ids.length;
    },
    samplePatients: async (tenant, n) =>
      (
        await select<{ patient_id: string }>(
          `SELECT patient_id FROM access_log WHERE tenant = ${quoteString(tenant)} AND patient_id != ''
           AND source_system = 'ehr' ORDER BY rand() LIMIT ${Math.floor(n)}`,
        )
      ).map((r) => r.patient_id),
    close: () => client.close(),
  };
}
