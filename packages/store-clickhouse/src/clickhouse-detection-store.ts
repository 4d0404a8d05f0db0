import type { ClickHouseClient } from '@clickhouse/client';
import {
  mergeAlert,
  type Alert,
  type AlertDecision,
  type AlertQuery,
  type AlertReviewStore,
  type CaseEvent,
  type CaseStore,
  type DetectionStore,
  type ReferenceData,
  type ReferenceKind,
  type ReferenceLoad,
  type ReferenceRecordOf,
  type ReviewQuery,
  type ReviewedAlert,
  alertColumns,
  checkAlerts,
  checkCount,
  checkReferenceLoad,
  checkText,
  parseAlertQuery,
  referenceDataFromRows,
  severityRank,
  storedJson,
  storedReferenceKind,
  type StoredReferenceRecord,
} from '@phi-audit/rules';
import { pino, type Logger } from 'pino';
import { createClickHouseAlertReview } from './clickhouse-alert-review.js';
import { createClickHouseCaseStore } from './clickhouse-case-store.js';
import { createStoreClient, parseStoreConnection, storeFailure } from './clickhouse-connection.js';
import { compareForList, foldRow, oneRowPerKey, type AlertRowText, type StoredAlert } from './detection-folds.js';
import * as sql from './detection-statements.js';
import { isStoreError, rowCheckError, StoreError, type StoreErrorCode } from './errors.js';
import { insertSettingsFor, lookupSettingsFor, READ_SETTINGS, type SettingValue } from './query-settings.js';
import { SELECT_VERSION } from './statements.js';

export interface ClickHouseDetectionStoreOptions {
  /** http[s]://user:password@host:port[/database]; the path names the database unless `database` is given. */
  url: string;
  /** Database to use; wins over the URL path. Default `phi_audit`. */
  database?: string;
  logger?: Logger;
  /** Per-request timeout (ms) of the HTTP client. Default 30 000. */
  requestTimeoutMs?: number;
}

/** Alert ids per lookup query and rows per insert: far below max_query_size and MAX_APPEND_ROWS. */
const IDS_PER_LOOKUP = 1_000;
const ROWS_PER_INSERT = 10_000;

/**
 * Reference data and alerts on ClickHouse, in the tables of migration 3 next to the ledger
 * (run `phi-audit migrate`, or ClickHouseLedgerStore.migrate(), first). ClickHouse has no
 * transactions, so:
 * - putReference inserts the records first and the load row last; reads only take records whose
 *   version has a load row, so a load that failed half-way is never seen. The version is the
 *   tenant's highest used version + 1: two loads of one tenant at the same instant from two
 *   processes could take the same version (their records would then read as one load). The
 *   reference API is the one writer of a tenant's reference data; keep it that way.
 * - upsertAlerts reads the stored rows of the alert ids, folds them with mergeAlert and inserts the
 *   merged state with the next revision. Reads fold every stored row of an id, so they are right
 *   whether or not ClickHouse has merged parts yet, and a racing second writer's state is kept
 *   until a merge keeps only the highest revision (alerts of one user come from one partition,
 *   hence one detector, so there is no second writer in practice).
 * One instance owns one HTTP client; close() it when done.
 */
export class ClickHouseDetectionStore implements DetectionStore, AlertReviewStore, CaseStore {
  /** The database this store reads and writes. */
  readonly database: string;
  readonly #client: ClickHouseClient;
  readonly #logger: Logger;
  readonly #review: AlertReviewStore;
  readonly #cases: CaseStore;
  #version: Promise<string> | undefined;
  #closed = false;

  constructor(options: ClickHouseDetectionStoreOptions) {
    const c = parseStoreConnection(options);
    this.database = c.database;
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({
      component: 'store-clickhouse-detection',
      database: this.database,
    });
    this.#client = createStoreClient(c);
    this.#review = createClickHouseAlertReview({
      database: this.database,
      logger: this.#logger,
      select: (query, what, settings) => this.#select(query, what, settings),
      insert: (table, columns, rows, what) => this.#insert(table, columns, rows, what),
    });
    this.#cases = createClickHouseCaseStore({
      database: this.database,
      logger: this.#logger,
      select: (query, what, settings) => this.#select(query, what, settings),
      insert: (table, columns, rows, what) => this.#insert(table, columns, rows, what),
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the ClickHouse detection store has been closed');
  }

  #fail(code: StoreErrorCode, what: string, err: unknown): StoreError {
    if (isStoreError(err)) return err;
    return rowCheckError(err) ?? storeFailure(this.#logger, code, what, err);
  }

  async #select<T>(query: string, what: string, settings: Readonly<Record<string, SettingValue>> = READ_SETTINGS) {
    this.#assertOpen();
    try {
      const rs = await this.#client.query({ query, format: 'JSONEachRow', clickhouse_settings: { ...settings } });
      return await rs.json<T>();
    } catch (err) {
      throw this.#fail('STORE_QUERY_FAILED', what, err);
    }
  }

  #serverVersion(): Promise<string> {
    this.#version ??= this.#select<{ version: string }>(SELECT_VERSION, 'reading the server version').then(
      (rows) => rows[0]?.version ?? '0.0',
      (err: unknown) => {
        this.#version = undefined;
        throw err;
      },
    );
    return this.#version;
  }

  /** One INSERT … FORMAT JSONEachRow; STORE_INSERT_FAILED (nothing of it stored) when it fails. */
  async #insert(
    table: string,
    columns: readonly [string, ...string[]],
    rows: readonly object[],
    what: string,
  ): Promise<void> {
    this.#assertOpen();
    try {
      await this.#client.insert({
        table,
        columns: [...columns] as [string, ...string[]],
        values: [...rows],
        format: 'JSONEachRow',
        clickhouse_settings: insertSettingsFor(await this.#serverVersion()),
      });
    } catch (err) {
      throw this.#fail('STORE_INSERT_FAILED', what, isStoreError(err) ? (err.cause ?? err) : err);
    }
  }

  /**
   * Stores `records` as the tenant's next reference version: records first (in inserts of at most
   * 10,000 rows), the load row last, which makes them visible. Throws STORE_INVALID_VALUE for a
   * malformed call, STORE_DUPLICATE_REFERENCE_KEY when two records share a referenceKey (nothing
   * stored), STORE_QUERY_FAILED or STORE_INSERT_FAILED (the load is then not visible).
   */
  async putReference<K extends ReferenceKind>(
    tenant: string,
    kind: K,
    records: readonly ReferenceRecordOf[K][],
    meta: { source: string; loadedAt: number },
  ): Promise<ReferenceLoad> {
    this.#assertOpen();
    const load = checkReferenceLoad(tenant, kind, records, meta);
    const [top] = await this.#select<{ top_version: string }>(
      sql.selectMaxReferenceVersion(this.database, load.tenant),
      'reading the latest reference version',
    );
    const version = Number(top?.top_version ?? 0) + 1;
    const rows = load.rows.map((r) => ({
      tenant: load.tenant,
      kind: load.kind,
      record_key: r.key,
      version,
      record_json: r.json,
    }));
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await this.#insert(
        sql.referenceRecordsTable(this.database),
        sql.REFERENCE_RECORD_COLUMNS,
        rows.slice(i, i + ROWS_PER_INSERT),
        `insert of ${load.kind} reference records`,
      );
    }
    const row = {
      tenant: load.tenant,
      version,
      kind: load.kind,
      record_count: rows.length,
      source: load.source,
      loaded_at: load.loadedAt,
    };
    await this.#insert(sql.referenceLoadsTable(this.database), sql.REFERENCE_LOAD_COLUMNS, [row], 'insert of a load');
    this.#logger.info({ tenant: load.tenant, kind: load.kind, version, count: rows.length }, 'stored reference load');
    return {
      tenant: load.tenant,
      kind: load.kind,
      version,
      count: rows.length,
      source: load.source,
      loadedAt: load.loadedAt,
    };
  }

  /**
   * The tenant's reference data as of `asOfVersion` (default: the latest): per kind and key the
   * record of the highest loaded version ≤ it, ordered by kind and key. `version` is the highest
   * loaded version ≤ asOfVersion (0 when there is none). Throws STORE_INVALID_VALUE for a bad
   * argument, STORE_CORRUPT_DATA when stored rows fail validation.
   */
  async referenceData(
    tenant: string,
    options: { asOfVersion?: number } = {},
  ): Promise<{ version: number; data: ReferenceData }> {
    this.#assertOpen();
    const t = checkText('tenant', tenant);
    const asOf =
      options.asOfVersion === undefined ? Number.MAX_SAFE_INTEGER : checkCount('asOfVersion', options.asOfVersion);
    const [top] = await this.#select<{ top_version: string }>(
      sql.selectReferenceVersionAsOf(this.database, t, asOf),
      'reading the reference version',
    );
    const version = Number(top?.top_version ?? 0);
    // Records up to the version just read: a load that completes meanwhile is not half-included.
    const rows =
      version === 0
        ? []
        : await this.#select<StoredReferenceRecord>(
            sql.selectReferenceRecordsAsOf(this.database, t, version),
            'reading reference data',
          );
    return { version, data: referenceDataFromRows(oneRowPerKey(rows)) };
  }

  /** The latest reference version of each tenant that has one. */
  async referenceVersions(): Promise<Map<string, number>> {
    const rows = await this.#select<{ tenant: string; top_version: string }>(
      sql.selectReferenceVersions(this.database),
      'reading reference versions',
    );
    return new Map(rows.map((r) => [r.tenant, Number(r.top_version)]));
  }

  /** Every load of the tenant, ascending version. */
  async referenceLoads(tenant: string): Promise<ReferenceLoad[]> {
    const t = checkText('tenant', tenant);
    const rows = await this.#select<Record<(typeof sql.REFERENCE_LOAD_COLUMNS)[number], string>>(
      sql.selectReferenceLoads(this.database, t),
      'reading reference loads',
    );
    return rows.map((r) => ({
      tenant: r.tenant,
      kind: storedReferenceKind(r.kind),
      version: Number(r.version),
      count: Number(r.record_count),
      source: r.source,
      loadedAt: Number(r.loaded_at),
    }));
  }

  /**
   * Upserts alerts by (tenant, alertId): the batch's states of one id are merged, then merged with
   * the fold of its stored rows; a result equal to the stored state is not written again, any
   * other is inserted with the next revision. Throws STORE_INVALID_VALUE for a malformed alert
   * (nothing stored), STORE_CORRUPT_DATA when a stored alert fails validation (nothing stored),
   * STORE_QUERY_FAILED or STORE_INSERT_FAILED.
   */
  async upsertAlerts(alerts: readonly Alert[]): Promise<void> {
    this.#assertOpen();
    const incoming = new Map<string, Map<string, Alert>>();
    for (const alert of checkAlerts(alerts)) {
      let ofTenant = incoming.get(alert.tenant);
      if (ofTenant === undefined) incoming.set(alert.tenant, (ofTenant = new Map<string, Alert>()));
      const earlier = ofTenant.get(alert.alertId);
      ofTenant.set(alert.alertId, earlier === undefined ? alert : mergeAlert(earlier, alert));
    }
    if (incoming.size === 0) return;
    const stored = await this.#storedAlerts(incoming);
    const now = Date.now();
    const rows: Record<(typeof sql.ALERT_COLUMNS)[number], string | number>[] = [];
    for (const [tenant, ofTenant] of incoming) {
      for (const [id, alert] of ofTenant) {
        const before = stored.get(tenant)?.get(id);
        const merged = before === undefined ? alert : mergeAlert(before.alert, alert);
        const json = storedJson('an alert', merged);
        if (before !== undefined && json === storedJson('an alert', before.alert)) continue;
        rows.push({
          tenant,
          alert_id: id,
          ...alertColumns(merged),
          first_event_at: merged.firstEventAt,
          last_event_at: merged.lastEventAt,
          alert_json: json,
          revision: (before?.revision ?? 0) + 1,
          updated_at: now,
        });
      }
    }
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await this.#insert(
        sql.alertsTable(this.database),
        sql.ALERT_COLUMNS,
        rows.slice(i, i + ROWS_PER_INSERT),
        'insert of alerts',
      );
    }
    this.#logger.debug({ alerts: incoming.size, written: rows.length }, 'upserted alerts');
  }

  /** The stored state of each of the given alert ids that has rows: tenant → id → fold. */
  async #storedAlerts(ids: ReadonlyMap<string, ReadonlyMap<string, unknown>>) {
    const pairs = [...ids].flatMap(([tenant, ofTenant]) => [...ofTenant.keys()].map((id) => [tenant, id] as const));
    const out = new Map<string, Map<string, StoredAlert>>();
    for (let i = 0; i < pairs.length; i += IDS_PER_LOOKUP) {
      const chunk = new Map<string, string[]>();
      for (const [tenant, id] of pairs.slice(i, i + IDS_PER_LOOKUP)) {
        const list = chunk.get(tenant);
        if (list === undefined) chunk.set(tenant, [id]);
        else list.push(id);
      }
      const query = sql.selectAlertRows(this.database, chunk);
      const rows = await this.#select<AlertRowText>(query, 'reading stored alerts', {
        ...lookupSettingsFor(Buffer.byteLength(query)),
      });
      for (const row of rows) {
        const tenant = row.tenant ?? '';
        let ofTenant = out.get(tenant);
        if (ofTenant === undefined) out.set(tenant, (ofTenant = new Map<string, StoredAlert>()));
        foldRow(ofTenant, tenant, row);
      }
    }
    return out;
  }

  /** One alert of the tenant (every stored row of it folded), or undefined. */
  async alert(tenant: string, alertId: string): Promise<Alert | undefined> {
    const t = checkText('tenant', tenant);
    const id = checkText('alertId', alertId);
    const rows = await this.#select<AlertRowText>(sql.selectAlert(this.database, t, id), 'reading an alert');
    const folded = new Map<string, StoredAlert>();
    for (const row of rows) foldRow(folded, t, row);
    return folded.get(id)?.alert;
  }

  /**
   * The tenant's alerts matching every given filter (days inclusive), newest day first, then
   * riskiest, then by alertId; at most `limit` (default 1000, at most 10,000). Throws
   * STORE_INVALID_VALUE for a bad query, STORE_CORRUPT_DATA when a stored row fails validation.
   */
  async alerts(query: AlertQuery): Promise<Alert[]> {
    this.#assertOpen();
    const q = parseAlertQuery(query);
    const text = sql.selectAlertPage(this.database, {
      tenant: q.tenant,
      fromDay: q.fromDay,
      toDay: q.toDay,
      ruleId: q.ruleId,
      userId: q.userId,
      patientId: q.patientId,
      minSeverityRank: q.minSeverity === undefined ? undefined : severityRank(q.minSeverity),
      limit: q.limit,
    });
    const rows = await this.#select<AlertRowText>(text, 'listing alerts');
    const folded = new Map<string, StoredAlert>();
    for (const row of rows) foldRow(folded, q.tenant, row);
    return [...folded.values()].map((s) => s.alert).sort(compareForList);
  }

  /**
   * Appends decisions (tables of migration 4): every named alert is checked first, then all are
   * written in one insert. Throws STORE_INVALID_VALUE (naming the decision and field),
   * STORE_UNKNOWN_ALERT when one names no alert of its tenant (nothing stored),
   * STORE_QUERY_FAILED or STORE_INSERT_FAILED (nothing stored).
   */
  async decide(decisions: readonly AlertDecision[]): Promise<void> {
    this.#assertOpen();
    return this.#review.decide(decisions);
  }

  /** Every decision of one alert of the tenant, oldest first (by decidedAt, then the order stored). */
  async decisions(tenant: string, alertId: string): Promise<AlertDecision[]> {
    this.#assertOpen();
    return this.#review.decisions(tenant, alertId);
  }

  /** Alerts with their status (latest decision by decidedAt, then the order stored), as ReviewQuery says. */
  async reviewList(query: ReviewQuery): Promise<{ total: number; items: ReviewedAlert[] }> {
    this.#assertOpen();
    return this.#review.reviewList(query);
  }

  /** Open alerts per rule, severity and age (on `now`), and the oldest open alert's firstEventAt. */
  async reviewSummary(tenant: string, now?: number): ReturnType<AlertReviewStore['reviewSummary']> {
    this.#assertOpen();
    return this.#review.reviewSummary(tenant, now);
  }

  /**
   * Appends case events (table of migration 5): one query checks the named cases and events, then
   * all are written in one insert. Throws STORE_INVALID_VALUE (naming the event and field),
   * STORE_CASE_EXISTS (a reused caseId or eventId), STORE_UNKNOWN_CASE (no such open case of the
   * tenant), STORE_QUERY_FAILED or STORE_INSERT_FAILED (nothing stored). Not atomic against a
   * concurrent writer of the same ids (see createClickHouseCaseStore).
   */
  async appendCaseEvents(events: readonly CaseEvent[]): Promise<void> {
    this.#assertOpen();
    return this.#cases.appendCaseEvents(events);
  }

  /** Every event of one case of the tenant, by (at, eventId); [] for an unknown case. STORE_CORRUPT_DATA for a tampered row. */
  async caseEvents(tenant: string, caseId: string): Promise<CaseEvent[]> {
    this.#assertOpen();
    return this.#cases.caseEvents(tenant, caseId);
  }

  /** Every case event of the tenant, by (at, eventId). STORE_CORRUPT_DATA for a tampered row. */
  async tenantCaseEvents(tenant: string): Promise<CaseEvent[]> {
    this.#assertOpen();
    return this.#cases.tenantCaseEvents(tenant);
  }

  /** Closes the HTTP client; later calls throw STORE_CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates a ClickHouse detection store. Does not connect until first use; the tables come from migration 3. */
export function createClickHouseDetectionStore(options: ClickHouseDetectionStoreOptions): ClickHouseDetectionStore {
  return new ClickHouseDetectionStore(options);
}
