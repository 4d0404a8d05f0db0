import type Database from 'better-sqlite3';
import {
  AccessesByPatientQuerySchema,
  AccessesByUserQuerySchema,
  ACCESS_VOLUME_BUCKETS,
  AccessVolumeQuerySchema,
  accessRowFromColumns,
  emptyHead,
  type AccessesByPatientQuery,
  type AccessesByUserQuery,
  type AccessQueryStore,
  type AccessRow,
  type AccessVolumeBucketRow,
  type AccessVolumeQuery,
  type AccessVolumeStore,
  type LedgerRecord,
  type LedgerStore,
  type LogHead,
  type StoredRecord,
  type LogTile,
  type StoredCheckpoint,
  type TileId,
} from '@phi-audit/ledger';
import { pino, type Logger } from 'pino';
import { parseAccessQuery } from './access-queries.js';
import {
  ACCESS_LOG_COLUMNS,
  rowFromRecord,
  storedRecordFromRawRow,
  storedRecordFromRow,
  type DerivedColumns,
} from './access-log-row.js';
import { sqliteErrorCode, storeFailure, StoreError, type StoreErrorCode } from './errors.js';
import { idempotencyKeyOf, type IdempotencyKeyFields } from './idempotency-key.js';
import { openDatabase } from './open-database.js';
import { prepareStatements, type PreparedStatements } from './prepared-statements.js';
import { SELECT_SCAN_PAGE } from './statements.js';
import {
  assertText,
  checkpointFromRow,
  checkpointRow,
  compareUtf8,
  distinctEventIds,
  distinctIndexes,
  distinctTileIds,
  tileFromRow,
  tileParams,
  type TileParams,
} from './proof-rows.js';

export interface SqliteLedgerStoreOptions {
  /** Path of the database file (embedded mode: `<data dir>/ledger.sqlite`). */
  file: string;
  logger?: Logger;
  /** SQLite max_page_count for this connection: a ceiling on the file size (the disk-full tests use it). */
  maxPageCount?: number;
  /** Open an existing ledger read-only (verification, another process's reader); no migrations. */
  readonly?: boolean;
}

/** Rows per scan page: scans never hold an open statement across a yield, so writes on the same connection proceed. */
const SCAN_PAGE_ROWS = 1_000;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The ledger store on one SQLite file (embedded mode). Synchronous underneath (better-sqlite3);
 * the async LedgerStore methods wrap the same calls. One instance owns one connection;
 * close() it when done.
 */
export class SqliteLedgerStore implements LedgerStore, AccessQueryStore, AccessVolumeStore {
  /** The database file this store reads and writes. */
  readonly file: string;
  readonly #readonly: boolean;
  readonly #logger: Logger;
  readonly #db: Database.Database;
  readonly #stmt: PreparedStatements;
  /** SELECT_SCAN_PAGE in raw mode (rows as arrays): the verifying scan's row fetch, about half the cost of object rows. */
  readonly #scanRaw: Database.Statement<[string, bigint, bigint, number], unknown[]>;
  readonly #write: (rows: readonly unknown[][], tiles: readonly TileParams[]) => void;
  #closed = false;

  constructor(options: SqliteLedgerStoreOptions) {
    this.file = options.file;
    this.#readonly = options.readonly === true;
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'store-sqlite' });
    this.#db = openDatabase({
      file: options.file,
      logger: this.#logger,
      maxPageCount: options.maxPageCount,
      readonly: this.#readonly,
    });
    this.#stmt = prepareStatements(this.#db);
    this.#scanRaw = this.#db.prepare<[string, bigint, bigint, number], unknown[]>(SELECT_SCAN_PAGE).raw(true);
    const { insert, upsertTile } = this.#stmt;
    // Records and tiles in one transaction: a tile that fails rolls the records back with it.
    const write = this.#db.transaction((rows: readonly unknown[][], tiles: readonly TileParams[]) => {
      for (const row of rows) insert.run(row);
      for (const tile of tiles) upsertTile.run(...tile);
    });
    // IMMEDIATE: take the write lock up front rather than upgrading a read lock mid-transaction.
    this.#write = (rows, tiles) => write.immediate(rows, tiles);
    this.#logger.debug({ file: this.file, readonly: this.#readonly }, 'opened ledger database');
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the SQLite store has been closed');
  }

  #fail(code: StoreErrorCode, what: string, err: unknown): StoreError {
    return storeFailure(this.#logger, code, what, err);
  }

  #read<T>(what: string, fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw this.#fail('STORE_QUERY_FAILED', what, err);
    }
  }

  #assertWritable(): void {
    this.#assertOpen();
    if (this.#readonly) throw new StoreError('STORE_READONLY', `the ledger ${this.file} was opened read-only`);
  }

  /**
   * Runs one write transaction; maps SQLITE_FULL to STORE_FULL (`what` names what was not
   * stored) and any other failure to STORE_INSERT_FAILED. Nothing of it is stored on failure.
   */
  #writeOrFail(what: string, rows: readonly unknown[][], tiles: readonly TileParams[]): void {
    try {
      this.#write(rows, tiles);
    } catch (err) {
      const code = sqliteErrorCode(err);
      if (code === 'SQLITE_FULL') {
        this.#logger.error(
          { code: 'STORE_FULL', records: rows.length, tiles: tiles.length },
          'ledger full: not stored',
        );
        throw new StoreError(
          'STORE_FULL',
          `the ledger ${this.file} is full (disk or max_page_count): none of ${what} was stored`,
          { cause: err },
        );
      }
      const detail = code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ? ' (a source offset is already stored)' : '';
      throw this.#fail('STORE_INSERT_FAILED', `insert of ${what}${detail}`, err);
    }
  }

  /**
   * Inserts `records`, and upserts the Merkle `tiles` they change (widest version wins, see
   * putTiles), in ONE transaction: all of it or none, durable when this returns. Every record
   * and tile is checked first (STORE_INVALID_RECORD, STORE_INVALID_VALUE). Throws STORE_FULL when
   * the disk or max_page_count is exhausted, STORE_INSERT_FAILED for any other failure
   * (including a source offset already stored: it is the row's `seq`), STORE_READONLY on a
   * read-only store. `derived[i]`, when given, are deriveColumns() of the schema-valid event
   * whose canonical JSON is `records[i].eventJson` (see rowFromRecord): that eventJson is not
   * parsed again.
   */
  appendSync(
    records: readonly LedgerRecord[],
    derived?: readonly DerivedColumns[],
    tiles: readonly LogTile[] = [],
  ): void {
    this.#assertWritable();
    if (derived !== undefined && derived.length !== records.length) {
      throw new StoreError('STORE_INVALID_VALUE', 'derived columns must be given for every record or for none');
    }
    if (!Array.isArray(tiles)) throw new StoreError('STORE_INVALID_VALUE', 'tiles must be an array');
    const rows = records.map((record, i) => {
      const row = rowFromRecord(record, derived?.[i]);
      const params: unknown[] = [row.source_offset];
      for (const column of ACCESS_LOG_COLUMNS) params.push(row[column]);
      return params;
    });
    const tileRows = tiles.map(tileParams);
    if (rows.length === 0 && tileRows.length === 0) return;
    this.#writeOrFail(`${rows.length} records and ${tileRows.length} tiles`, rows, tileRows);
  }

  /** LedgerStore.append: appendSync (records and tiles in one transaction) behind a promise. */
  async append(records: readonly LedgerRecord[], tiles?: readonly LogTile[]): Promise<void> {
    this.appendSync(records, undefined, tiles);
    return Promise.resolve();
  }

  #headSync(origin: string): LogHead {
    const r = this.#stmt.head.get(origin);
    if (r === undefined) return emptyHead(origin);
    return { origin, size: r.idx + 1, chain: r.chain, lastSourceOffset: r.source_offset };
  }

  /** Heads of every log with at least one row; size = max(idx) + 1, chain and offset of that row. */
  async heads(): Promise<LogHead[]> {
    return Promise.resolve(
      this.#read('reading log heads', () =>
        this.#db.transaction(() => this.#stmt.origins.all().map((o) => this.#headSync(o.log)))(),
      ),
    );
  }

  /** Head of one log; the empty head (size 0, genesis chain, offset -1) when it has no rows. */
  async head(origin: string): Promise<LogHead> {
    assertText('origin', origin);
    return Promise.resolve(this.#read('reading a log head', () => this.#headSync(origin)));
  }

  /**
   * Every stored row of `origin` from `fromIndex` (default 0) in ascending index order,
   * duplicates included (ties in insertion order), read in pages. Each record carries
   * `columnMismatch` when a query column disagrees with its event_json.
   */
  async *scan(origin: string, options: { fromIndex?: number } = {}): AsyncGenerator<StoredRecord> {
    assertText('origin', origin);
    const from = options.fromIndex ?? 0;
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new StoreError('STORE_INVALID_VALUE', 'fromIndex must be a non-negative safe integer');
    }
    // Cursor (idx, seq) as 64-bit text → bigint: a tampered huge value must not make a page repeat.
    let idx = BigInt(from) - 1n;
    let seq = INT64_MAX;
    for (;;) {
      const page = this.#read('scanning a log', () => this.#scanRaw.all(origin, idx, seq, SCAN_PAGE_ROWS));
      for (const row of page) yield storedRecordFromRawRow(row);
      const last = page.at(-1);
      if (last === undefined || page.length < SCAN_PAGE_ROWS) return;
      // Columns 0 and 1 are idx_text and seq_text (SELECT_SCAN_PAGE).
      idx = BigInt(last[0] as string);
      seq = BigInt(last[1] as string);
      // A long scan (verify in the embedded process) must not starve ingest: let I/O run between pages.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Idempotency keys of the last `count` records of `origin` (index ≥ size − count, size =
   * max index + 1), ascending index; fewer when the log is shorter, none when it is empty or
   * `count` is 0. Throws STORE_INVALID_VALUE for a count that is not a non-negative safe integer.
   */
  async recentKeys(
    origin: string,
    count: number,
  ): Promise<{ index: number; tenant: string; sourceSystem: string; eventId: string }[]> {
    assertText('origin', origin);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new StoreError('STORE_INVALID_VALUE', 'count must be a non-negative safe integer');
    }
    if (count === 0) return Promise.resolve([]);
    const rows = this.#read('reading the recent keys of a log', () => this.#stmt.recentKeys.all(origin, origin, count));
    return Promise.resolve(
      rows.map((r) => ({ index: r.idx, tenant: r.tenant, sourceSystem: r.source_system, eventId: r.event_id })),
    );
  }

  /**
   * Which of `keys` are already stored (any log), as idempotencyKeyOf() strings. One read
   * transaction, one index lookup per key. Throws STORE_INVALID_VALUE for a malformed key.
   */
  existingKeys(keys: readonly IdempotencyKeyFields[]): Set<string> {
    for (const k of keys) {
      assertText('tenant', k.tenant);
      assertText('sourceSystem', k.sourceSystem);
      assertText('eventId', k.eventId);
    }
    return this.#read('looking up idempotency keys', () =>
      this.#db.transaction(() => {
        const found = new Set<string>();
        for (const k of keys) {
          if (this.#stmt.keyExists.get(k.tenant, k.sourceSystem, k.eventId) !== undefined) {
            found.add(idempotencyKeyOf(k));
          }
        }
        return found;
      })(),
    );
  }

  /** The highest source offset (= seq) over all logs, -1 when the store is empty: embedded mode's ingest sequence. */
  lastSourceOffset(): number {
    return this.#read('reading the last source offset', () => this.#stmt.maxSeq.get()?.max_seq ?? -1);
  }

  /** Every log with its row count (duplicates counted), by origin. */
  async logs(): Promise<{ origin: string; records: number }[]> {
    const rows = this.#read('listing logs', () => this.#stmt.logs.all());
    return Promise.resolve(rows.map((r) => ({ origin: r.log, records: r.records })));
  }

  /** Row counts per tenant, by tenant. */
  async countsByTenant(): Promise<{ tenant: string; records: number }[]> {
    return Promise.resolve(this.#read('counting by tenant', () => this.#stmt.countsByTenant.all()));
  }

  /**
   * Accesses to one patient's record within a tenant, newest first (then origin, index),
   * `from` inclusive, `to` exclusive (epoch ms). Throws STORE_INVALID_VALUE for a bad query.
   */
  async accessesByPatient(query: AccessesByPatientQuery): Promise<AccessRow[]> {
    const q = parseAccessQuery(AccessesByPatientQuerySchema, query);
    const rows = this.#read('querying accesses by patient', () =>
      this.#stmt.byPatient.all(q.tenant, q.patientId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit),
    );
    return Promise.resolve(rows.map(accessRowFromColumns));
  }

  /** Accesses by one user within a tenant, newest first; same rules as accessesByPatient. */
  async accessesByUser(query: AccessesByUserQuery): Promise<AccessRow[]> {
    const q = parseAccessQuery(AccessesByUserQuerySchema, query);
    const rows = this.#read('querying accesses by user', () =>
      this.#stmt.byUser.all(q.tenant, q.userId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit),
    );
    return Promise.resolve(rows.map(accessRowFromColumns));
  }

  /**
   * The tenant's access volume per hour or UTC day over [from, to) of event time, `from` rounded
   * down to its bucket: events, failures and distinct users per bucket, buckets with events only,
   * ascending. One range of the covering index access_log_by_tenant_time (migration 3). Duplicate
   * rows (tampering) are counted like the rest. Throws STORE_INVALID_VALUE for a bad query.
   */
  async accessVolume(query: AccessVolumeQuery): Promise<AccessVolumeBucketRow[]> {
    const q = parseAccessQuery(AccessVolumeQuerySchema, query);
    const width = ACCESS_VOLUME_BUCKETS[q.bucket];
    const from = Math.floor(q.from / width) * width;
    const rows = this.#read('querying access volume', () => this.#stmt.volume[q.bucket].all(q.tenant, from, q.to));
    return Promise.resolve(
      rows.map((r) => ({ start: r.start, events: r.events, failures: r.failures, users: r.users })),
    );
  }

  /**
   * Upserts tiles in one transaction: per (origin, level, index) the widest version wins; an
   * equal or narrower one is ignored (the tree only grows, so it holds nothing new). Throws
   * STORE_INVALID_VALUE for a malformed tile (nothing stored), STORE_FULL, STORE_INSERT_FAILED
   * or STORE_READONLY.
   */
  async putTiles(tiles: readonly LogTile[]): Promise<void> {
    this.#assertWritable();
    if (!Array.isArray(tiles)) throw new StoreError('STORE_INVALID_VALUE', 'tiles must be an array');
    const tileRows = tiles.map(tileParams);
    if (tileRows.length > 0) this.#writeOrFail(`${tileRows.length} tiles`, [], tileRows);
    return Promise.resolve();
  }

  /**
   * The stored (widest) version of each distinct requested tile of `origin`, absent ones
   * omitted, in request order; one primary-key seek per tile in one read transaction. Throws
   * STORE_INVALID_VALUE for a malformed id or more than MAX_LOOKUP_KEYS ids.
   */
  async readTiles(origin: string, ids: readonly TileId[]): Promise<LogTile[]> {
    assertText('origin', origin);
    const wanted = distinctTileIds(ids);
    if (wanted.length === 0) return Promise.resolve([]);
    return Promise.resolve(
      this.#read('reading Merkle tiles', () =>
        this.#db.transaction(() => {
          const out: LogTile[] = [];
          for (const id of wanted) {
            const row = this.#stmt.tile.get(origin, id.level, id.index);
            if (row !== undefined) out.push(tileFromRow(origin, row));
          }
          return out;
        })(),
      ),
    );
  }

  /** Leaves covered by the stored level-0 tiles of `origin`: max(index·256 + width), 0 when none. */
  async tileCoverage(origin: string): Promise<number> {
    assertText('origin', origin);
    return Promise.resolve(
      this.#read('reading the tile coverage', () => this.#stmt.tileCoverage.get(origin)?.leaves ?? 0),
    );
  }

  /**
   * Stores a signed checkpoint; an exact duplicate of a stored one (a retried put) is skipped.
   * The note is kept as given, not opened: verification does that against trusted keys. Throws
   * STORE_INVALID_VALUE (malformed fields), STORE_FULL, STORE_INSERT_FAILED or STORE_READONLY.
   */
  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    this.#assertWritable();
    const row = checkpointRow(checkpoint);
    try {
      this.#stmt.insertCheckpoint.run(row);
    } catch (err) {
      if (sqliteErrorCode(err) === 'SQLITE_FULL') {
        throw new StoreError('STORE_FULL', `the ledger ${this.file} is full: the checkpoint was not stored`, {
          cause: err,
        });
      }
      throw this.#fail('STORE_INSERT_FAILED', 'storing a checkpoint', err);
    }
    return Promise.resolve();
  }

  /** Every stored checkpoint of `origin`, ascending size, then signedAt, then insertion order; as stored. */
  async checkpoints(origin: string): Promise<StoredCheckpoint[]> {
    assertText('origin', origin);
    const rows = this.#read('reading checkpoints', () => this.#stmt.checkpoints.all(origin));
    return Promise.resolve(rows.map(checkpointFromRow));
  }

  /** The stored checkpoint of `origin` with the largest size (the last one `checkpoints` returns), or undefined. */
  async latestCheckpoint(origin: string): Promise<StoredCheckpoint | undefined> {
    assertText('origin', origin);
    const row = this.#read('reading the latest checkpoint', () => this.#stmt.latestCheckpoint.get(origin));
    return Promise.resolve(row === undefined ? undefined : checkpointFromRow(row));
  }

  /** Origins with at least one stored checkpoint, in byte order. */
  async checkpointedLogs(): Promise<string[]> {
    const rows = this.#read('listing checkpointed logs', () => this.#stmt.checkpointedLogs.all());
    return Promise.resolve(rows.map((r) => r.log));
  }

  /**
   * The stored rows of `origin` at the distinct `indexes`, ascending index, duplicates of an
   * index in insertion order; missing indexes yield nothing. Each carries `columnMismatch` like
   * scan. Throws STORE_INVALID_VALUE for an index that is not a non-negative safe integer or
   * more than MAX_LOOKUP_KEYS indexes.
   */
  async recordsAt(origin: string, indexes: readonly number[]): Promise<StoredRecord[]> {
    assertText('origin', origin);
    const wanted = distinctIndexes(indexes);
    if (wanted.length === 0) return Promise.resolve([]);
    return Promise.resolve(
      this.#read('reading records by index', () =>
        this.#db.transaction(() => wanted.flatMap((index) => this.#stmt.recordsAt.all(origin, index)))(),
      ).map(storedRecordFromRow),
    );
  }

  /**
   * Stored rows of `tenant` whose event id is one of `eventIds` (any source system, any log),
   * by origin (byte order), then index, then insertion order. Each carries `columnMismatch`
   * like scan. Throws STORE_INVALID_VALUE for a malformed tenant or id, or more than
   * MAX_LOOKUP_KEYS ids.
   */
  async recordsByEventId(tenant: string, eventIds: readonly string[]): Promise<StoredRecord[]> {
    assertText('tenant', tenant);
    const wanted = distinctEventIds(eventIds);
    if (wanted.length === 0) return Promise.resolve([]);
    const rows = this.#read('reading records by event id', () =>
      this.#db.transaction(() => wanted.flatMap((eventId) => this.#stmt.recordsByEventId.all(tenant, eventId)))(),
    );
    // Sorted here rather than in SQL: each id is its own index seek. Values as stored, so compare defensively.
    rows.sort(
      (a, b) =>
        compareUtf8(String(a.log), String(b.log)) || Number(a.idx) - Number(b.idx) || Number(a.seq) - Number(b.seq),
    );
    return Promise.resolve(rows.map(storedRecordFromRow));
  }

  /**
   * The settings in effect on this store's connection (journal mode, synchronous level
   * 2 = FULL, page ceiling, busy timeout, read-only): for diagnostics and tests.
   */
  pragmas(): {
    journalMode: string;
    synchronous: number;
    maxPageCount: number;
    busyTimeoutMs: number;
    readonly: boolean;
  } {
    return this.#read('reading pragmas', () => ({
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#db.pragma('synchronous', { simple: true })),
      maxPageCount: Number(this.#db.pragma('max_page_count', { simple: true })),
      busyTimeoutMs: Number(this.#db.pragma('busy_timeout', { simple: true })),
      readonly: this.#db.readonly,
    }));
  }

  /** Closes the connection (checkpointing the WAL); later calls throw STORE_CLOSED. Idempotent. */
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
 * Opens (creating if needed) the SQLite ledger at `options.file`: applies the pragmas
 * (WAL, synchronous=FULL, busy timeout, max_page_count) and runs pending migrations, unless
 * `readonly`, which requires an existing ledger of exactly this schema version.
 */
export function createSqliteLedgerStore(options: SqliteLedgerStoreOptions): SqliteLedgerStore {
  return new SqliteLedgerStore(options);
}
