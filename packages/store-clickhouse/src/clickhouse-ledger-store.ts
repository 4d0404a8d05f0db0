import type { ClickHouseClient } from '@clickhouse/client';
import {
  AccessesByPatientQuerySchema,
  AccessesByUserQuerySchema,
  ACCESS_VOLUME_BUCKETS,
  AccessVolumeQuerySchema,
  emptyHead,
  type AccessesByPatientQuery,
  type AccessesByUserQuery,
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
import { accessRowFromText, parseAccessQuery, type AccessRowText } from './access-queries.js';
import {
  ACCESS_LOG_COLUMNS,
  findColumnMismatch,
  rowBytesUpperBound,
  rowFromRecord,
  type StoredRowText,
} from './access-log-row.js';
import {
  createStoreClient,
  parseStoreConnection,
  storeFailure,
  type StoreConnection,
} from './clickhouse-connection.js';
import { isStoreError, StoreError, type StoreErrorCode } from './errors.js';
import { MIGRATIONS } from './migrations.js';
import {
  checkLookupSize,
  checkpointFromRow,
  checkText,
  checkTileId,
  checkUInt,
  MAX_LOOKUP_KEYS,
  rowFromCheckpoint,
  rowFromTile,
  tileFromRow,
  tileKey,
  widestPerTile,
  type CheckpointRow,
  type MerkleTileRow,
  type MerkleTileRowText,
} from './merkle-rows.js';
import {
  insertSettingsFor,
  lookupSettingsFor,
  MAX_APPEND_BYTES,
  MAX_APPEND_ROWS,
  READ_SETTINGS,
  SCAN_SETTINGS,
  type SettingValue,
} from './query-settings.js';
import * as sql from './statements.js';

export interface ClickHouseLedgerStoreOptions {
  /** http[s]://user:password@host:port[/database]; the path names the database unless `database` is given. */
  url: string;
  /** Database to use; wins over the URL path. Default `phi_audit`. */
  database?: string;
  logger?: Logger;
  /** Per-request timeout (ms) of the HTTP client. Default 30 000. */
  requestTimeoutMs?: number;
}

/**
 * The ledger store on ClickHouse (18.16.1 in CI, current in production). One instance
 * owns one HTTP client; close() it when done.
 */
export class ClickHouseLedgerStore implements LedgerStore, AccessVolumeStore {
  /** The database this store reads and writes. */
  readonly database: string;
  readonly #connection: StoreConnection;
  readonly #client: ClickHouseClient;
  readonly #logger: Logger;
  #version: Promise<string> | undefined;
  #closed = false;

  constructor(options: ClickHouseLedgerStoreOptions) {
    this.#connection = parseStoreConnection(options);
    this.database = this.#connection.database;
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({
      component: 'store-clickhouse',
      database: this.database,
    });
    this.#client = createStoreClient(this.#connection);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'the ClickHouse store has been closed');
  }

  #fail(code: StoreErrorCode, what: string, err: unknown): StoreError {
    return storeFailure(this.#logger, code, what, err);
  }

  async #select<T>(
    query: string,
    what: string,
    options: { settings?: Readonly<Record<string, SettingValue>> } = {},
  ): Promise<T[]> {
    this.#assertOpen();
    try {
      const rs = await this.#client.query({
        query,
        format: 'JSONEachRow',
        clickhouse_settings: { ...(options.settings ?? READ_SETTINGS) },
      });
      return await rs.json<T>();
    } catch (err) {
      throw this.#fail('STORE_QUERY_FAILED', what, err);
    }
  }

  #serverVersion(): Promise<string> {
    this.#version ??= this.#select<{ version: string }>(sql.SELECT_VERSION, 'reading the server version').then(
      (rows) => rows[0]?.version ?? '0.0',
      (err: unknown) => {
        this.#version = undefined;
        throw err;
      },
    );
    return this.#version;
  }

  /**
   * Creates the database and applies pending migrations in order, each once (admin
   * credentials needed). Re-running is a no-op. Throws STORE_SCHEMA_TOO_NEW when the
   * database records a migration this build does not know, STORE_MIGRATION_FAILED when a
   * statement fails (later migrations are not attempted).
   */
  async migrate(): Promise<void> {
    this.#assertOpen();
    // The database may not exist yet, and the client names one on every request: bootstrap
    // from `system`, which every user may use.
    const bootstrap = createStoreClient(this.#connection, 'system');
    try {
      await bootstrap.command({ query: sql.createDatabase(this.database) });
      await bootstrap.command({ query: sql.createSchemaMigrationsTable(this.database) });
    } catch (err) {
      throw this.#fail('STORE_MIGRATION_FAILED', 'creating the database and schema_migrations', err);
    } finally {
      await bootstrap.close();
    }
    const applied = new Set(
      (
        await this.#select<{ version: number | string }>(
          sql.selectAppliedMigrations(this.database),
          'reading applied migrations',
        )
      ).map((r) => Number(r.version)),
    );
    const known = new Set(MIGRATIONS.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new StoreError(
        'STORE_SCHEMA_TOO_NEW',
        `database ${this.database} has migrations ${unknown.join(', ')} that this version does not know; upgrade phi-audit`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      try {
        for (const statement of migration.statements(this.database)) await this.#client.command({ query: statement });
        await this.#client.command({
          query: sql.insertAppliedMigration(this.database, migration.version, migration.name),
        });
      } catch (err) {
        throw this.#fail('STORE_MIGRATION_FAILED', `migration ${migration.version} (${migration.name})`, err);
      }
      this.#logger.info({ version: migration.version }, 'applied migration');
    }
  }

  /** Heads of every log with at least one row; size = max(idx) + 1. */
  async heads(): Promise<LogHead[]> {
    const rows = await this.#select<{ log: string; max_idx: string; chain: string; last_source_offset: string }>(
      sql.selectHeads(this.database),
      'reading log heads',
    );
    return rows.map((r) => ({
      origin: r.log,
      size: Number(r.max_idx) + 1,
      chain: r.chain,
      lastSourceOffset: Number(r.last_source_offset),
    }));
  }

  /** Head of one log; the empty head (size 0, genesis chain, offset -1) when it has no rows. */
  async head(origin: string): Promise<LogHead> {
    const [r] = await this.#select<{ rows: string; max_idx: string; chain: string; last_source_offset: string }>(
      sql.selectHead(this.database, origin),
      'reading a log head',
    );
    if (r === undefined || r.rows === '0') return emptyHead(origin);
    return { origin, size: Number(r.max_idx) + 1, chain: r.chain, lastSourceOffset: Number(r.last_source_offset) };
  }

  /**
   * Inserts `records` as ONE INSERT (JSONEachRow): all of them or none. Every record is
   * checked first (STORE_INVALID_RECORD); more than MAX_APPEND_ROWS rows or
   * MAX_APPEND_BYTES of JSON is STORE_BATCH_TOO_LARGE; a failed insert is
   * STORE_INSERT_FAILED and stored nothing. Does not deduplicate: after a failure whose
   * outcome is unknown (timeout), re-read the head before retrying.
   *
   * `tiles` (the Merkle tiles the records change) are checked with the records, before
   * anything is written (STORE_INVALID_VALUE: neither is stored), and stored AFTER the records
   * as putTiles stores them: ClickHouse has no transaction spanning two tables. When that second
   * step fails the records are stored and the error is STORE_TILES_NOT_STORED; the tiles then
   * lag their records, which the writer repairs when it loads the log (tileCoverage + scan) and
   * verification never trusts. Records without tiles (tiles only) are a plain putTiles.
   */
  async append(records: readonly LedgerRecord[], tiles?: readonly LogTile[]): Promise<void> {
    this.#assertOpen();
    const tileRows = tiles === undefined ? [] : this.#tileRows(tiles);
    await this.#appendRecords(records);
    try {
      await this.#putTileRows(tileRows);
    } catch (err) {
      if (records.length === 0) throw err;
      throw new StoreError(
        'STORE_TILES_NOT_STORED',
        `the ${records.length} records were stored but their Merkle tiles were not; the tiles are rebuilt when the log is next loaded`,
        { cause: err },
      );
    }
  }

  async #appendRecords(records: readonly LedgerRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (records.length > MAX_APPEND_ROWS) {
      throw new StoreError(
        'STORE_BATCH_TOO_LARGE',
        `append of ${records.length} records exceeds ${MAX_APPEND_ROWS} per call`,
      );
    }
    const rows = records.map(rowFromRecord);
    // The client serialises the rows; measuring them exactly would serialise them twice. An
    // upper bound decides almost every batch, the exact size only the ones near the limit.
    let bytes = rows.reduce((sum, row) => sum + rowBytesUpperBound(row), 0);
    if (bytes > MAX_APPEND_BYTES) {
      bytes = 0;
      for (const row of rows) bytes += Buffer.byteLength(JSON.stringify(row)) + 1;
    }
    if (bytes > MAX_APPEND_BYTES) {
      throw new StoreError('STORE_BATCH_TOO_LARGE', `append of ${bytes} bytes exceeds ${MAX_APPEND_BYTES} per call`);
    }
    try {
      const settings = insertSettingsFor(await this.#serverVersion());
      await this.#client.insert({
        table: sql.accessLogTable(this.database),
        columns: [...ACCESS_LOG_COLUMNS],
        values: rows,
        format: 'JSONEachRow',
        clickhouse_settings: settings,
      });
    } catch (err) {
      // Nothing was stored, whether the version check or the insert failed.
      throw this.#fail('STORE_INSERT_FAILED', `insert of ${rows.length} records`, storeCause(err));
    }
  }

  /**
   * Every stored row of `origin` from `fromIndex` (default 0) in ascending index order,
   * duplicates included, streamed (the server sorts, spilling to disk for big logs).
   * Each record carries `columnMismatch` when a query column disagrees with its event_json.
   */
  async *scan(origin: string, options: { fromIndex?: number } = {}): AsyncGenerator<StoredRecord> {
    this.#assertOpen();
    const query = sql.selectScan(this.database, origin, options.fromIndex ?? 0);
    let rs;
    try {
      rs = await this.#client.query({
        query,
        format: 'JSONEachRow',
        clickhouse_settings: { ...READ_SETTINGS, ...SCAN_SETTINGS },
      });
    } catch (err) {
      throw this.#fail('STORE_QUERY_FAILED', 'scanning a log', err);
    }
    try {
      for await (const rows of rs.stream<StoredRowText>()) {
        for (const row of rows) {
          let raw: StoredRowText;
          try {
            raw = row.json();
          } catch (err) {
            // An error after the first bytes arrives as text in the body: never a silent end.
            throw this.#fail('STORE_QUERY_FAILED', 'scanning a log (unreadable row in the response)', err);
          }
          yield storedRecordFromText(raw);
        }
      }
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw this.#fail('STORE_QUERY_FAILED', 'scanning a log', err);
    } finally {
      rs.close();
    }
  }

  /**
   * Idempotency keys of the last `count` records of `origin` (index ≥ size − count, size =
   * max index + 1), ascending index; fewer when the log is shorter, none when it is empty or
   * `count` is 0. Streamed, so only the returned keys are held, not the response text.
   * Throws STORE_INVALID_VALUE for a count that is not a non-negative safe integer,
   * STORE_QUERY_FAILED when the read fails.
   */
  async recentKeys(
    origin: string,
    count: number,
  ): Promise<{ index: number; tenant: string; sourceSystem: string; eventId: string }[]> {
    this.#assertOpen();
    const query = sql.selectRecentKeys(this.database, origin, count);
    if (count === 0) return [];
    const what = 'reading the recent keys of a log';
    let rs;
    try {
      rs = await this.#client.query({ query, format: 'JSONEachRow', clickhouse_settings: { ...READ_SETTINGS } });
    } catch (err) {
      throw this.#fail('STORE_QUERY_FAILED', what, err);
    }
    const out: { index: number; tenant: string; sourceSystem: string; eventId: string }[] = [];
    try {
      for await (const rows of rs.stream<RecentKeyRowText>()) {
        for (const row of rows) {
          let raw: RecentKeyRowText;
          try {
            raw = row.json();
          } catch (err) {
            // An error after the first bytes arrives as text in the body: never a silently short window.
            throw this.#fail('STORE_QUERY_FAILED', `${what} (unreadable row in the response)`, err);
          }
          if (raw.log !== origin) throw this.#fail('STORE_QUERY_FAILED', `${what} (row of another log)`, undefined);
          out.push({
            index: Number(raw.idx),
            tenant: raw.tenant,
            sourceSystem: raw.source_system,
            eventId: raw.event_id,
          });
        }
      }
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw this.#fail('STORE_QUERY_FAILED', what, err);
    } finally {
      rs.close();
    }
    return out;
  }

  /** Every log with its row count (duplicates counted), by origin. */
  async logs(): Promise<{ origin: string; records: number }[]> {
    const rows = await this.#select<{ log: string; records: string }>(sql.selectLogs(this.database), 'listing logs');
    return rows.map((r) => ({ origin: r.log, records: Number(r.records) }));
  }

  /** Row counts per tenant, by tenant. */
  async countsByTenant(): Promise<{ tenant: string; records: number }[]> {
    const rows = await this.#select<{ tenant: string; records: string }>(
      sql.selectCountsByTenant(this.database),
      'counting by tenant',
    );
    return rows.map((r) => ({ tenant: r.tenant, records: Number(r.records) }));
  }

  /**
   * Accesses to one patient's record within a tenant, newest first, read from access_log.
   * `from` is inclusive, `to` exclusive (epoch ms). Throws STORE_INVALID_VALUE for a bad query.
   */
  async accessesByPatient(query: AccessesByPatientQuery): Promise<AccessRow[]> {
    const q = parseAccessQuery(AccessesByPatientQuerySchema, query);
    const rows = await this.#select<AccessRowText>(
      sql.selectAccessesByPatient(this.database, q),
      'querying accesses by patient',
    );
    return rows.map(accessRowFromText);
  }

  /** Accesses by one user within a tenant, newest first, read from the per-user materialized view. */
  async accessesByUser(query: AccessesByUserQuery): Promise<AccessRow[]> {
    const q = parseAccessQuery(AccessesByUserQuerySchema, query);
    const rows = await this.#select<AccessRowText>(
      sql.selectAccessesByUser(this.database, q),
      'querying accesses by user',
    );
    return rows.map(accessRowFromText);
  }

  /**
   * The tenant's access volume per hour or UTC day over [from, to) of event time, `from` rounded
   * down to its bucket: events, failures and distinct users (uniqExact) per bucket, buckets with
   * events only, ascending. Read from access_log (see selectAccessVolume). Duplicate rows (a
   * tampered table) are counted like the rest. Throws STORE_INVALID_VALUE for a bad query.
   */
  async accessVolume(query: AccessVolumeQuery): Promise<AccessVolumeBucketRow[]> {
    const q = parseAccessQuery(AccessVolumeQuerySchema, query);
    const width = ACCESS_VOLUME_BUCKETS[q.bucket];
    const from = Math.floor(q.from / width) * width;
    const rows = await this.#select<{
      bucket_start: string;
      bucket_events: string;
      bucket_failures: string;
      bucket_users: string;
    }>(sql.selectAccessVolume(this.database, { tenant: q.tenant, from, to: q.to, width }), 'querying access volume');
    return rows.map((r) => ({
      start: Number(r.bucket_start),
      events: Number(r.bucket_events),
      failures: Number(r.bucket_failures),
      users: Number(r.bucket_users),
    }));
  }

  /**
   * Stores the tiles, widest version per tile: per (origin, level, index) a tile is inserted only
   * when it is wider than the widest stored one (one width lookup per origin first; within the
   * call the widest, first among equals, is kept), so an equal or narrower version never replaces
   * the stored one. Every tile is checked before anything is written (STORE_INVALID_VALUE); more
   * than MAX_LOOKUP_KEYS tiles is STORE_BATCH_TOO_LARGE. Not atomic across tiles: the rows go in
   * inserts of at most TILES_PER_INSERT, and a failure (STORE_INSERT_FAILED) may leave some
   * stored, which is harmless (each tile is an independent upsert; lagging tiles are rebuilt).
   */
  async putTiles(tiles: readonly LogTile[]): Promise<void> {
    this.#assertOpen();
    await this.#putTileRows(this.#tileRows(tiles));
  }

  /** Checked rows of `tiles`, before anything is written. */
  #tileRows(tiles: readonly LogTile[]): MerkleTileRow[] {
    if (!Array.isArray(tiles)) throw new StoreError('STORE_INVALID_VALUE', 'tiles must be an array');
    if (tiles.length > MAX_LOOKUP_KEYS) {
      throw new StoreError(
        'STORE_BATCH_TOO_LARGE',
        `${tiles.length} tiles exceed the ${MAX_LOOKUP_KEYS} one call may store`,
      );
    }
    return tiles.map(rowFromTile);
  }

  async #putTileRows(rows: readonly MerkleTileRow[]): Promise<void> {
    if (rows.length === 0) return;
    const widest = widestPerTile(rows);
    const byOrigin = new Map<string, MerkleTileRow[]>();
    for (const row of widest) {
      const rowsOfLog = byOrigin.get(row.log);
      if (rowsOfLog === undefined) byOrigin.set(row.log, [row]);
      else rowsOfLog.push(row);
    }
    const wider: MerkleTileRow[] = [];
    for (const [origin, candidates] of byOrigin) {
      const query = sql.selectTileWidths(
        this.database,
        origin,
        candidates.map((r) => ({ level: r.level, index: r.tile_index })),
      );
      const stored = new Map(
        (
          await this.#select<Omit<MerkleTileRowText, 'widest_hashes'>>(query, 'reading stored tile widths', {
            settings: lookupSettingsFor(Buffer.byteLength(query)),
          })
        ).map((r) => [tileKey(origin, Number(r.level), Number(r.tile_index)), Number(r.widest_width)]),
      );
      for (const row of candidates) {
        if (row.width > (stored.get(tileKey(origin, row.level, row.tile_index)) ?? 0)) wider.push(row);
      }
    }
    for (let i = 0; i < wider.length; i += TILES_PER_INSERT) {
      const chunk = wider.slice(i, i + TILES_PER_INSERT);
      try {
        await this.#client.insert({
          table: sql.merkleTilesTable(this.database),
          columns: [...sql.MERKLE_TILE_COLUMNS],
          values: chunk,
          format: 'JSONEachRow',
          clickhouse_settings: insertSettingsFor(await this.#serverVersion()),
        });
      } catch (err) {
        throw this.#fail('STORE_INSERT_FAILED', `insert of ${chunk.length} Merkle tiles`, storeCause(err));
      }
    }
  }

  /**
   * The widest stored version of each of `ids` of `origin` (absent ones omitted, each tile
   * once, any order), in one query. More than MAX_LOOKUP_KEYS ids, a malformed id or origin is
   * STORE_INVALID_VALUE; a stored tile that is not well-formed hex of its width is
   * STORE_QUERY_FAILED (written by something other than this store).
   */
  async readTiles(origin: string, ids: readonly TileId[]): Promise<LogTile[]> {
    this.#assertOpen();
    checkText(origin, 'origin');
    checkLookupSize(ids, 'tile ids');
    const checked = ids.map(checkTileId);
    if (checked.length === 0) return [];
    const query = sql.selectTiles(this.database, origin, checked);
    const rows = await this.#select<MerkleTileRowText>(query, 'reading Merkle tiles', {
      settings: lookupSettingsFor(Buffer.byteLength(query)),
    });
    return rows.map((row) => tileFromRow(origin, row));
  }

  /** Leaves covered by the stored level-0 tiles of `origin`: max(index·256 + width), 0 when none. */
  async tileCoverage(origin: string): Promise<number> {
    checkText(origin, 'origin');
    const [row] = await this.#select<{ coverage: string }>(
      sql.selectTileCoverage(this.database, origin),
      'reading tile coverage',
    );
    return Number(row?.coverage ?? 0);
  }

  /**
   * Stores a signed checkpoint as one row. A retried put of the same checkpoint adds an
   * identical row, which reads collapse; a different checkpoint of the same size is kept beside
   * the first. Throws STORE_INVALID_VALUE for a malformed checkpoint (rowFromCheckpoint),
   * STORE_INSERT_FAILED when the insert fails.
   */
  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    this.#assertOpen();
    const row = rowFromCheckpoint(checkpoint);
    try {
      await this.#client.insert({
        table: sql.checkpointsTable(this.database),
        columns: [...sql.CHECKPOINT_COLUMNS],
        values: [row],
        format: 'JSONEachRow',
        clickhouse_settings: insertSettingsFor(await this.#serverVersion()),
      });
    } catch (err) {
      throw this.#fail('STORE_INSERT_FAILED', 'insert of a checkpoint', storeCause(err));
    }
  }

  /** Every distinct stored checkpoint of `origin`, ascending size, then signing time. */
  async checkpoints(origin: string): Promise<StoredCheckpoint[]> {
    checkText(origin, 'origin');
    const rows = await this.#select<CheckpointRow>(sql.selectCheckpoints(this.database, origin), 'reading checkpoints');
    return rows.map(checkpointFromRow);
  }

  /** The stored checkpoint of `origin` with the largest size (the latest signed among those), or undefined. */
  async latestCheckpoint(origin: string): Promise<StoredCheckpoint | undefined> {
    checkText(origin, 'origin');
    const [row] = await this.#select<CheckpointRow>(
      sql.selectLatestCheckpoint(this.database, origin),
      'reading the latest checkpoint',
    );
    return row === undefined ? undefined : checkpointFromRow(row);
  }

  /** Origins with at least one stored checkpoint, in byte order. */
  async checkpointedLogs(): Promise<string[]> {
    const rows = await this.#select<{ log: string }>(
      sql.selectCheckpointedLogs(this.database),
      'listing checkpointed logs',
    );
    return rows.map((r) => r.log);
  }

  /**
   * The stored rows of `origin` at `indexes` (duplicates included, missing ones omitted),
   * ascending index, each with `columnMismatch` as scan reports it; one query. More than
   * MAX_LOOKUP_KEYS indexes, an index that is not a non-negative safe integer or a malformed
   * origin is STORE_INVALID_VALUE.
   */
  async recordsAt(origin: string, indexes: readonly number[]): Promise<StoredRecord[]> {
    this.#assertOpen();
    checkText(origin, 'origin');
    checkLookupSize(indexes, 'indexes');
    const distinct = [...new Set(indexes.map((index, i) => checkUInt(index, `index ${i}`)))];
    if (distinct.length === 0) return [];
    return this.#lookup(sql.selectRecordsAt(this.database, origin, distinct), 'reading records by index');
  }

  /**
   * The stored rows of `tenant` whose event id is one of `eventIds`, in any log and source
   * system, by origin then index (duplicates included); one query over the tenant's range.
   * More than MAX_LOOKUP_KEYS ids or a malformed tenant or id is STORE_INVALID_VALUE.
   */
  async recordsByEventId(tenant: string, eventIds: readonly string[]): Promise<StoredRecord[]> {
    this.#assertOpen();
    checkText(tenant, 'tenant');
    checkLookupSize(eventIds, 'event ids');
    const distinct = [...new Set(eventIds.map((id, i) => checkText(id, `event id ${i}`)))];
    if (distinct.length === 0) return [];
    return this.#lookup(sql.selectRecordsByEventId(this.database, tenant, distinct), 'reading records by event id');
  }

  async #lookup(query: string, what: string): Promise<StoredRecord[]> {
    const rows = await this.#select<StoredRowText>(query, what, {
      settings: lookupSettingsFor(Buffer.byteLength(query)),
    });
    return rows.map(storedRecordFromText);
  }

  /** True when the server answers a query with these credentials and database; never throws. */
  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      const rows = await this.#select<{ ok: number }>(sql.SELECT_ONE, 'ping');
      return rows.length === 1 && Number(rows[0]?.ok) === 1;
    } catch {
      return false;
    }
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

/** Most tile rows per INSERT: 1,024 full tiles are 16 MiB of hex, far below MAX_APPEND_BYTES. */
const TILES_PER_INSERT = 1024;

/** The driver's error inside a StoreError from the version check, for #fail's cause. */
function storeCause(err: unknown): unknown {
  return isStoreError(err) ? (err.cause ?? err) : err;
}

/** A row of selectRecentKeys as read (JSONEachRow, 64-bit integers quoted). */
type RecentKeyRowText = Record<'log' | 'idx' | 'tenant' | 'source_system' | 'event_id', string>;

function storedRecordFromText(raw: StoredRowText): StoredRecord {
  const record: StoredRecord = {
    origin: raw.log,
    index: Number(raw.idx),
    sourceOffset: Number(raw.source_offset),
    eventId: raw.event_id,
    tenant: raw.tenant,
    eventJson: raw.event_json,
    leafHash: raw.leaf_hash,
    chain: raw.chain,
  };
  const mismatch = findColumnMismatch(raw);
  if (mismatch !== undefined) record.columnMismatch = mismatch;
  return record;
}

/** Creates a ClickHouse ledger store. Does not connect until first use; call migrate() once with admin credentials. */
export function createClickHouseLedgerStore(options: ClickHouseLedgerStoreOptions): ClickHouseLedgerStore {
  return new ClickHouseLedgerStore(options);
}
