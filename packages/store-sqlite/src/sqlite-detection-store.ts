import type Database from 'better-sqlite3';
import { canonicalJson } from '@phi-audit/ledger';
import {
  mergeAlert,
  type Alert,
  type AlertDecision,
  type AlertQuery,
  type AlertReviewStore,
  type CaseEvent,
  type CaseStore,
  type DetectionStore,
  type DetectorCursorStore,
  type ReferenceData,
  type ReferenceKind,
  type ReferenceLoad,
  type ReferenceRecordOf,
  type ReviewQuery,
  type ReviewedAlert,
  alertColumns,
  alertFromJson,
  assertColumnsMatch,
  checkAlerts,
  checkCount,
  checkReferenceLoad,
  checkText,
  parseAlertQuery,
  referenceDataFromRows,
  severityRank,
  storedReferenceKind,
  type AlertColumns,
  type CheckedReferenceLoad,
  type StoredReferenceRecord,
} from '@phi-audit/rules';
import { pino, type Logger } from 'pino';
import { DETECTION_MIGRATIONS } from './detection-migrations.js';
import * as sql from './detection-statements.js';
import {
  isStoreError,
  sqliteErrorCode,
  rowCheckError,
  storeFailure,
  StoreError,
  type StoreErrorCode,
} from './errors.js';
import { openDatabase } from './open-database.js';
import { createSqliteAlertReview } from './sqlite-alert-review.js';
import { createSqliteCaseStore } from './sqlite-case-store.js';

export interface SqliteDetectionStoreOptions {
  /** Path of the database file (embedded mode: `<data dir>/detection.sqlite`, see detectionFileIn). */
  file: string;
  logger?: Logger;
}

type AlertRow = AlertColumns & { tenant: string; alert_id: string; alert_json: string };
type LoadRow = {
  tenant: string;
  version: number;
  kind: string;
  record_count: number;
  source: string;
  loaded_at: number;
};

/** Every fixed statement of the store, prepared once per connection. */
function prepare(db: Database.Database) {
  return {
    maxVersion: db.prepare<[string], { version: number }>(sql.SELECT_MAX_REFERENCE_VERSION),
    versionAsOf: db.prepare<[string, number], { version: number }>(sql.SELECT_REFERENCE_VERSION_AS_OF),
    insertRecord: db.prepare<[string, string, string, number, string]>(sql.INSERT_REFERENCE_RECORD),
    insertLoad: db.prepare<[string, number, string, number, string, number]>(sql.INSERT_REFERENCE_LOAD),
    recordsAsOf: db.prepare<[string, number], StoredReferenceRecord>(sql.SELECT_REFERENCE_RECORDS_AS_OF),
    versions: db.prepare<[], { tenant: string; version: number }>(sql.SELECT_REFERENCE_VERSIONS),
    loads: db.prepare<[string], LoadRow>(sql.SELECT_REFERENCE_LOADS),
    alert: db.prepare<[string, string], AlertRow>(sql.SELECT_ALERT),
    upsertAlert: db.prepare<unknown[]>(sql.UPSERT_ALERT),
    cursor: db.prepare<[string], { origin: string; next_index: number }>(sql.SELECT_CURSOR),
    upsertCursor: db.prepare<[string, string, number]>(sql.UPSERT_CURSOR),
  };
}

/**
 * Reference data, alerts and detector cursors on one SQLite file of their own (embedded mode),
 * opened like the ledger (WAL, synchronous=FULL, mode 0600, versioned migrations) with a busy
 * timeout: the reference API and the detector may write it from different threads, each with its
 * own connection. Synchronous underneath; every write is one IMMEDIATE transaction, so a version
 * number is never handed out twice and an alert's read-merge-write is never interleaved.
 */
export class SqliteDetectionStore implements DetectionStore, DetectorCursorStore, AlertReviewStore, CaseStore {
  /** The database file this store reads and writes. */
  readonly file: string;
  readonly #logger: Logger;
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepare>;
  readonly #alertLists = new Map<string, Database.Statement<unknown[], AlertRow>>();
  readonly #review: AlertReviewStore;
  readonly #cases: CaseStore;
  #closed = false;

  constructor(options: SqliteDetectionStoreOptions) {
    this.file = options.file;
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'store-sqlite-detection' });
    this.#db = openDatabase({
      file: options.file,
      logger: this.#logger,
      readonly: false,
      kind: 'detection',
      migrations: DETECTION_MIGRATIONS,
    });
    try {
      this.#stmt = prepare(this.#db);
      this.#review = createSqliteAlertReview({
        db: this.#db,
        logger: this.#logger,
        read: (what, fn) => this.#read(what, fn),
        write: (what, fn) => this.#write(what, fn),
      });
      this.#cases = createSqliteCaseStore({
        db: this.#db,
        logger: this.#logger,
        read: (what, fn) => this.#read(what, fn),
        write: (what, fn) => this.#write(what, fn),
      });
    } catch (err) {
      this.#db.close();
      throw this.#fail('STORE_OPEN_FAILED', 'preparing the detection statements', err);
    }
    this.#logger.debug({ file: this.file }, 'opened detection database');
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the SQLite detection store has been closed');
  }

  #fail(code: StoreErrorCode, what: string, err: unknown): StoreError {
    return rowCheckError(err) ?? storeFailure(this.#logger, code, what, err);
  }

  #read<T>(what: string, fn: () => T): T {
    this.#assertOpen();
    try {
      // One read transaction: every statement of `fn` sees the same snapshot.
      return this.#db.transaction(fn)();
    } catch (err) {
      throw this.#fail('STORE_QUERY_FAILED', what, err);
    }
  }

  /** Runs `fn` in one IMMEDIATE transaction; SQLITE_FULL becomes STORE_FULL, other failures STORE_INSERT_FAILED. */
  #write<T>(what: string, fn: () => T): T {
    this.#assertOpen();
    try {
      // IMMEDIATE: take the write lock up front, so the read part of a read-modify-write is current.
      return this.#db.transaction(fn).immediate();
    } catch (err) {
      if (isStoreError(err)) throw err;
      const rowError = rowCheckError(err);
      if (rowError !== undefined) throw rowError;
      if (sqliteErrorCode(err) === 'SQLITE_FULL') {
        this.#logger.error({ code: 'STORE_FULL' }, `${what}: detection database full`);
        throw new StoreError('STORE_FULL', `the detection database ${this.file} is full: ${what} was not stored`, {
          cause: err,
        });
      }
      throw this.#fail('STORE_INSERT_FAILED', what, err);
    }
  }

  /**
   * Stores `records` as the tenant's next reference version (previous maximum + 1), in one
   * transaction with its load row. Throws STORE_INVALID_VALUE for a malformed call,
   * STORE_DUPLICATE_REFERENCE_KEY when two records share a referenceKey (nothing stored),
   * STORE_FULL or STORE_INSERT_FAILED.
   */
  async putReference<K extends ReferenceKind>(
    tenant: string,
    kind: K,
    records: readonly ReferenceRecordOf[K][],
    meta: { source: string; loadedAt: number },
  ): Promise<ReferenceLoad> {
    this.#assertOpen();
    const load = checkReferenceLoad(tenant, kind, records, meta);
    const version = this.#write(`reference load of ${load.rows.length} ${load.kind} records`, () =>
      this.#insertLoad(load),
    );
    this.#logger.info(
      { tenant: load.tenant, kind: load.kind, version, count: load.rows.length },
      'stored reference load',
    );
    return Promise.resolve({
      tenant: load.tenant,
      kind: load.kind,
      version,
      count: load.rows.length,
      source: load.source,
      loadedAt: load.loadedAt,
    });
  }

  #insertLoad(load: CheckedReferenceLoad): number {
    const version = (this.#stmt.maxVersion.get(load.tenant)?.version ?? 0) + 1;
    for (const row of load.rows) this.#stmt.insertRecord.run(load.tenant, load.kind, row.key, version, row.json);
    this.#stmt.insertLoad.run(load.tenant, version, load.kind, load.rows.length, load.source, load.loadedAt);
    return version;
  }

  /**
   * The tenant's reference data as of `asOfVersion` (default: the latest): per kind and key the
   * record of the highest version ≤ it, ordered by kind and key. `version` is the highest loaded
   * version ≤ asOfVersion (0 when there is none). Throws STORE_INVALID_VALUE for a bad argument,
   * STORE_CORRUPT_DATA when stored rows fail validation.
   */
  async referenceData(
    tenant: string,
    options: { asOfVersion?: number } = {},
  ): Promise<{ version: number; data: ReferenceData }> {
    this.#assertOpen();
    const t = checkText('tenant', tenant);
    const asOf =
      options.asOfVersion === undefined ? Number.MAX_SAFE_INTEGER : checkCount('asOfVersion', options.asOfVersion);
    const { version, rows } = this.#read('reading reference data', () => ({
      version: this.#stmt.versionAsOf.get(t, asOf)?.version ?? 0,
      rows: this.#stmt.recordsAsOf.all(t, asOf),
    }));
    return Promise.resolve({ version, data: referenceDataFromRows(rows) });
  }

  /** The latest reference version of each tenant that has one. */
  async referenceVersions(): Promise<Map<string, number>> {
    const rows = this.#read('reading reference versions', () => this.#stmt.versions.all());
    return Promise.resolve(new Map(rows.map((r) => [r.tenant, r.version])));
  }

  /** Every load of the tenant, ascending version. */
  async referenceLoads(tenant: string): Promise<ReferenceLoad[]> {
    const t = checkText('tenant', tenant);
    const rows = this.#read('reading reference loads', () => this.#stmt.loads.all(t));
    return Promise.resolve(
      rows.map((r) => ({
        tenant: r.tenant,
        kind: storedReferenceKind(r.kind),
        version: r.version,
        count: r.record_count,
        source: r.source,
        loadedAt: r.loaded_at,
      })),
    );
  }

  /**
   * Upserts alerts by (tenant, alertId) in one transaction: each is merged (mergeAlert) with the
   * stored alert of its id, so repeats and partial states converge. Throws STORE_INVALID_VALUE for
   * a malformed alert (nothing stored), STORE_CORRUPT_DATA when a stored alert fails validation
   * (nothing stored), STORE_FULL or STORE_INSERT_FAILED.
   */
  async upsertAlerts(alerts: readonly Alert[]): Promise<void> {
    this.#assertOpen();
    const checked = checkAlerts(alerts);
    if (checked.length === 0) return Promise.resolve();
    this.#write(`upsert of ${checked.length} alerts`, () => {
      const { alert: select, upsertAlert: upsert } = this.#stmt;
      const now = Date.now();
      for (const alert of checked) {
        const stored = select.get(alert.tenant, alert.alertId);
        const merged = stored === undefined ? alert : mergeAlert(this.#alertFromRow(stored), alert);
        const c = alertColumns(merged);
        upsert.run(
          merged.tenant,
          merged.alertId,
          c.day,
          c.rule_id,
          c.user_id,
          c.patient_id,
          c.severity_rank,
          c.risk_score,
          merged.firstEventAt,
          merged.lastEventAt,
          canonicalJson(merged),
          now,
        );
      }
    });
    this.#logger.debug({ alerts: checked.length }, 'upserted alerts');
    return Promise.resolve();
  }

  #alertFromRow(row: AlertRow): Alert {
    const alert = alertFromJson(row.alert_json, { tenant: row.tenant, alertId: row.alert_id });
    assertColumnsMatch(alert, row);
    return alert;
  }

  /** One alert of the tenant, or undefined. Throws STORE_CORRUPT_DATA when the stored row fails validation. */
  async alert(tenant: string, alertId: string): Promise<Alert | undefined> {
    const t = checkText('tenant', tenant);
    const id = checkText('alertId', alertId);
    const row = this.#read('reading an alert', () => this.#stmt.alert.get(t, id));
    return Promise.resolve(row === undefined ? undefined : this.#alertFromRow(row));
  }

  /**
   * The tenant's alerts matching every given filter (days inclusive), newest day first, then
   * riskiest, then by alertId; at most `limit` (default 1000, at most 10,000). Throws
   * STORE_INVALID_VALUE for a bad query, STORE_CORRUPT_DATA when a stored row fails validation.
   */
  async alerts(query: AlertQuery): Promise<Alert[]> {
    this.#assertOpen();
    const q = parseAlertQuery(query);
    const params: unknown[] = [q.tenant];
    for (const value of [q.fromDay, q.toDay, q.ruleId, q.userId, q.patientId]) {
      if (value !== undefined) params.push(value);
    }
    if (q.minSeverity !== undefined) params.push(severityRank(q.minSeverity));
    params.push(q.limit);
    const text = sql.selectAlerts({
      fromDay: q.fromDay !== undefined,
      toDay: q.toDay !== undefined,
      ruleId: q.ruleId !== undefined,
      userId: q.userId !== undefined,
      patientId: q.patientId !== undefined,
      minSeverity: q.minSeverity !== undefined,
    });
    const rows = this.#read('listing alerts', () => {
      let statement = this.#alertLists.get(text);
      if (statement === undefined) {
        statement = this.#db.prepare<unknown[], AlertRow>(text);
        this.#alertLists.set(text, statement);
      }
      return statement.all(...params);
    });
    return Promise.resolve(rows.map((row) => this.#alertFromRow(row)));
  }

  /** The stored positions of cursor `name`: origin → next index to read. */
  async cursor(name: string): Promise<Map<string, number>> {
    const n = checkText('cursor name', name);
    const rows = this.#read('reading a detector cursor', () => this.#stmt.cursor.all(n));
    return Promise.resolve(new Map(rows.map((r) => [r.origin, r.next_index])));
  }

  /** Replaces the stored positions of `name` for the given origins (others stay), in one transaction. */
  async saveCursor(name: string, positions: ReadonlyMap<string, number>): Promise<void> {
    this.#assertOpen();
    const n = checkText('cursor name', name);
    if (!(positions instanceof Map)) throw new StoreError('STORE_INVALID_VALUE', 'positions must be a Map');
    const entries = [...positions].map(
      ([origin, index]) => [checkText('origin', origin), checkCount('next index', index)] as const,
    );
    if (entries.length === 0) return Promise.resolve();
    this.#write('saving a detector cursor', () => {
      for (const [origin, index] of entries) this.#stmt.upsertCursor.run(n, origin, index);
    });
    return Promise.resolve();
  }

  /**
   * Appends decisions in one IMMEDIATE transaction, all or nothing. Throws STORE_INVALID_VALUE
   * (naming the decision and field), STORE_UNKNOWN_ALERT when one names no alert of its tenant,
   * STORE_FULL or STORE_INSERT_FAILED.
   */
  async decide(decisions: readonly AlertDecision[]): Promise<void> {
    this.#assertOpen();
    return this.#review.decide(decisions);
  }

  /** Every decision of one alert of the tenant, oldest first (by decidedAt, then the order stored). */
  async decisions(tenant: string, alertId: string): Promise<AlertDecision[]> {
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
   * Appends case events (table of migration 3) in one IMMEDIATE transaction, all or nothing.
   * Throws STORE_INVALID_VALUE (naming the event and field), STORE_CASE_EXISTS (a reused caseId
   * or eventId), STORE_UNKNOWN_CASE (no such open case of the tenant), STORE_FULL or
   * STORE_INSERT_FAILED.
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

  /** The settings in effect on this store's connection (synchronous 2 = FULL), for diagnostics and tests. */
  pragmas(): { journalMode: string; synchronous: number; busyTimeoutMs: number } {
    return this.#read('reading pragmas', () => ({
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#db.pragma('synchronous', { simple: true })),
      busyTimeoutMs: Number(this.#db.pragma('busy_timeout', { simple: true })),
    }));
  }

  /** Closes the connection; later calls throw STORE_CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens (creating if needed, mode 0600) the detection database at `options.file` and applies its
 * pending migrations. Throws STORE_OPEN_FAILED, STORE_SCHEMA_TOO_NEW or STORE_MIGRATION_FAILED.
 */
export function createSqliteDetectionStore(options: SqliteDetectionStoreOptions): SqliteDetectionStore {
  return new SqliteDetectionStore(options);
}
