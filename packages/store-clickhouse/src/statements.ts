import { ACCESS_LOG_COLUMNS, DERIVED_COLUMNS } from './access-log-row.js';
import { quoteIdentifier, quoteString, quoteUInt } from './sql-literal.js';

/**
 * Every SQL text the store sends, as pure builders (the store and sqlCatalog() share
 * them, so the current-engine check runs exactly what production runs). Values go
 * through sql-literal.ts only. Nothing here may use syntax newer than 18.16.1.
 */

/** Columns a per-patient or per-user query returns (the MV target holds exactly these). */
export const ACCESS_QUERY_COLUMNS = ['log', 'idx', 'source_offset', ...DERIVED_COLUMNS] as const;

const COLUMN_TYPES: Record<(typeof ACCESS_LOG_COLUMNS)[number], string> = {
  log: 'String',
  idx: 'UInt64',
  source_offset: 'UInt64',
  event_id: 'String',
  tenant: 'String',
  occurred_at: "DateTime('UTC')",
  occurred_ms: 'UInt64',
  received_ms: 'UInt64',
  source_system: 'String',
  user_id: 'String',
  user_role: 'String',
  user_department: 'String',
  workstation: 'String',
  patient_id: 'String',
  action: 'String',
  resource_type: 'String',
  outcome: 'String',
  event_json: 'String',
  leaf_hash: 'String',
  chain: 'String',
};

const columnDefs = (columns: readonly (keyof typeof COLUMN_TYPES)[]): string =>
  columns.map((c) => `    ${c} ${COLUMN_TYPES[c]}`).join(',\n');

/*
 * Reads select plain columns (no `toString(x) AS x`: an alias named like its column
 * replaces the column in WHERE and ORDER BY on every version). UInt64 arrives as JSON
 * text through READ_SETTINGS, DateTime as 'YYYY-MM-DD hh:mm:ss' in UTC.
 */

export function createSchemaMigrationsTable(database: string): string {
  const db = quoteIdentifier(database);
  return `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (
    version UInt32,
    name String,
    applied_at DateTime('UTC')
) ENGINE = MergeTree ORDER BY version`;
}

export function selectAppliedMigrations(database: string): string {
  return `SELECT DISTINCT version FROM ${quoteIdentifier(database)}.schema_migrations ORDER BY version`;
}

export function insertAppliedMigration(database: string, version: number, name: string): string {
  return `INSERT INTO ${quoteIdentifier(database)}.schema_migrations (version, name, applied_at) VALUES (${quoteUInt(version)}, ${quoteString(name)}, now())`;
}

export function createDatabase(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}`;
}

/**
 * Migration 1, statement 1: the ledger table.
 * No PARTITION BY, deliberately: MergeTree writes one part per partition touched by an
 * insert block, and parts are committed one by one, so with a partition key (say by
 * month) a batch spanning two months is two commits and a failure between them leaves
 * half a batch. Unpartitioned, one insert of at most one block is one part: all or
 * nothing. Retention is not a reason to partition either (HIPAA wants six years, and
 * the ledger is never pruned by the database).
 * ORDER BY serves per-patient queries ("who looked at my record"); per-user queries
 * use the materialized view below.
 */
export function createAccessLogTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.access_log (
${columnDefs(ACCESS_LOG_COLUMNS)}
) ENGINE = MergeTree
ORDER BY (tenant, patient_id, occurred_ms, log, idx)`;
}

/** Migration 1, statement 2: the per-user copy (no event_json or hashes: it is an index, not the ledger). */
export function createAccessLogByUserTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.access_log_by_user (
${columnDefs(ACCESS_QUERY_COLUMNS)}
) ENGINE = MergeTree
ORDER BY (tenant, user_id, occurred_ms, log, idx)`;
}

/**
 * Migration 1, statement 3: `TO <table>` form (explicit target) reads the same on
 * 18.16 and current ClickHouse, and keeps the target an ordinary table we name.
 * The view is fed after the access_log part is committed, so a failure in between
 * leaves a row missing from the per-user index, never from the ledger.
 */
export function createAccessLogByUserView(database: string): string {
  const db = quoteIdentifier(database);
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.access_log_by_user_mv TO ${db}.access_log_by_user AS
SELECT ${ACCESS_QUERY_COLUMNS.join(', ')}
FROM ${db}.access_log`;
}

/** Table name for the client's insert(); it renders `INSERT INTO <table> (<columns>) FORMAT JSONEachRow`. */
export function accessLogTable(database: string): string {
  return `${quoteIdentifier(database)}.access_log`;
}

/** The text @clickhouse/client sends for append() (data follows on the next line). */
export function insertAccessLogQuery(database: string): string {
  return `INSERT INTO ${accessLogTable(database)} (${ACCESS_LOG_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}

/**
 * Heads of all logs. size = max(idx) + 1 (computed in JS from the text), not count():
 * after a deleted middle row count() would be one short, and a writer resuming there
 * would reuse an index and hide the gap. chain and offset come from the max-idx row.
 */
export function selectHeads(database: string): string {
  return `SELECT log, toString(max(idx)) AS max_idx, argMax(chain, idx) AS chain, toString(argMax(source_offset, idx)) AS last_source_offset
FROM ${quoteIdentifier(database)}.access_log
GROUP BY log
ORDER BY log`;
}

/** Head of one log: one row always (rows = '0' when the log is empty). */
export function selectHead(database: string, origin: string): string {
  return `SELECT toString(count()) AS rows, toString(max(idx)) AS max_idx, argMax(chain, idx) AS chain, toString(argMax(source_offset, idx)) AS last_source_offset
FROM ${quoteIdentifier(database)}.access_log
WHERE log = ${quoteString(origin)}`;
}

/** Every row of one log from `fromIndex`, ascending idx, duplicates included. */
export function selectScan(database: string, origin: string, fromIndex: number): string {
  return `SELECT ${ACCESS_LOG_COLUMNS.join(', ')}
FROM ${quoteIdentifier(database)}.access_log
WHERE log = ${quoteString(origin)} AND idx >= ${quoteUInt(fromIndex)}
ORDER BY idx, chain, leaf_hash`;
}

/**
 * Idempotency keys of the last `count` records of one log (idx ≥ size − count, size =
 * max(idx) + 1), ascending idx. Written as `idx + count > max(idx)` so nothing is subtracted
 * from a UInt64. The scalar subquery reads the head in the same statement as the rows, so
 * window and head cannot come from different moments. The table is ordered by tenant and
 * patient, so both parts scan the `log` column: a sequential read, once per partition load.
 */
export function selectRecentKeys(database: string, origin: string, count: number): string {
  const table = `${quoteIdentifier(database)}.access_log`;
  const log = quoteString(origin);
  return `SELECT log, idx, tenant, source_system, event_id
FROM ${table}
WHERE log = ${log} AND idx + ${quoteUInt(count)} > (SELECT max(idx) FROM ${table} WHERE log = ${log})
ORDER BY idx`;
}

export function selectLogs(database: string): string {
  return `SELECT log, toString(count()) AS records FROM ${quoteIdentifier(database)}.access_log GROUP BY log ORDER BY log`;
}

export function selectCountsByTenant(database: string): string {
  return `SELECT tenant, toString(count()) AS records FROM ${quoteIdentifier(database)}.access_log GROUP BY tenant ORDER BY tenant`;
}

export interface AccessQuery {
  tenant: string;
  /** Inclusive lower bound on the event time, epoch ms. */
  from?: number | undefined;
  /** Exclusive upper bound on the event time, epoch ms. */
  to?: number | undefined;
  limit: number;
}

function accessesWhere(q: AccessQuery, column: string, value: string): string {
  const parts = [`tenant = ${quoteString(q.tenant)}`, `${column} = ${quoteString(value)}`];
  if (q.from !== undefined) parts.push(`occurred_ms >= ${quoteUInt(q.from)}`);
  if (q.to !== undefined) parts.push(`occurred_ms < ${quoteUInt(q.to)}`);
  return parts.join(' AND ');
}

function selectAccesses(database: string, table: string, where: string, limit: number): string {
  return `SELECT ${ACCESS_QUERY_COLUMNS.join(', ')}
FROM ${quoteIdentifier(database)}.${table}
WHERE ${where}
ORDER BY occurred_ms DESC, log, idx
LIMIT ${quoteUInt(limit)}`;
}

/** Accesses to one patient's record, newest first, from the ledger table itself. */
export function selectAccessesByPatient(database: string, q: AccessQuery & { patientId: string }): string {
  return selectAccesses(database, 'access_log', accessesWhere(q, 'patient_id', q.patientId), q.limit);
}

/** Accesses by one user, newest first, from the per-user materialized view. */
export function selectAccessesByUser(database: string, q: AccessQuery & { userId: string }): string {
  return selectAccesses(database, 'access_log_by_user', accessesWhere(q, 'user_id', q.userId), q.limit);
}

/** The access volume query, `from` already rounded down to the bucket. */
export interface AccessVolumeWindow {
  tenant: string;
  from: number;
  to: number;
  /** Bucket width, ms (ACCESS_VOLUME_BUCKETS). */
  width: number;
}

/**
 * Access volume of one tenant per bucket, buckets with events only, ascending (aliases never
 * repeat a column name). Reads access_log, the ledger itself (the per-user copy can miss a row
 * its view failed to write): the sorting key's tenant prefix limits the read to the tenant's
 * granules, of which only occurred_ms, outcome and user_id are read. No key has occurred_ms
 * right after tenant, so the time range is a filter within the tenant, not a key range.
 */
export function selectAccessVolume(database: string, q: AccessVolumeWindow): string {
  const width = quoteUInt(q.width);
  return `SELECT intDiv(occurred_ms, ${width}) AS bucket_index, bucket_index * ${width} AS bucket_start,
    count() AS bucket_events, countIf(outcome = 'failure') AS bucket_failures, uniqExact(user_id) AS bucket_users
FROM ${quoteIdentifier(database)}.access_log
WHERE tenant = ${quoteString(q.tenant)} AND occurred_ms >= ${quoteUInt(q.from)} AND occurred_ms < ${quoteUInt(q.to)}
GROUP BY bucket_index
ORDER BY bucket_index`;
}

/** Columns of `merkle_tiles`, in table order (also the JSONEachRow keys putTiles inserts). */
export const MERKLE_TILE_COLUMNS = ['log', 'level', 'tile_index', 'width', 'hashes'] as const;

/** Columns of `checkpoints`, in table order. */
export const CHECKPOINT_COLUMNS = ['log', 'size', 'root', 'note', 'signed_ms'] as const;

/**
 * Migration 2, statement 1: the Merkle tiles of every log (C2SP tlog-tiles layout, height 8;
 * `hashes` is the lowercase hex of width × 32 bytes, because JSON cannot carry binary).
 * ReplacingMergeTree(width) lets background merges drop the narrower versions of a tile that
 * grew; reads never rely on merges having happened (they take argMax(hashes, width)).
 * Unpartitioned for the same reason as access_log: one insert is one part.
 */
export function createMerkleTilesTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.merkle_tiles (
    log String,
    level UInt8,
    tile_index UInt64,
    width UInt16,
    hashes String
) ENGINE = ReplacingMergeTree(width)
ORDER BY (log, level, tile_index)`;
}

/**
 * Migration 2, statement 2: signed checkpoints, every one kept (a forged one beside the
 * genuine one, never instead of it), so plain MergeTree.
 */
export function createCheckpointsTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.checkpoints (
    log String,
    size UInt64,
    root String,
    note String,
    signed_ms UInt64
) ENGINE = MergeTree
ORDER BY (log, size)`;
}

/** Table name for putTiles' insert(). */
export function merkleTilesTable(database: string): string {
  return `${quoteIdentifier(database)}.merkle_tiles`;
}

/** The text @clickhouse/client sends for putTiles() (data follows on the next line). */
export function insertMerkleTilesQuery(database: string): string {
  return `INSERT INTO ${merkleTilesTable(database)} (${MERKLE_TILE_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}

/** Table name for putCheckpoint's insert(). */
export function checkpointsTable(database: string): string {
  return `${quoteIdentifier(database)}.checkpoints`;
}

/** The text @clickhouse/client sends for putCheckpoint() (data follows on the next line). */
export function insertCheckpointQuery(database: string): string {
  return `INSERT INTO ${checkpointsTable(database)} (${CHECKPOINT_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}

/**
 * The widest stored version of the tiles `ids` of one log (absent ones yield no row). The ids
 * are grouped by level into `(level = L AND tile_index IN (…))` terms: each a range of the
 * table's sort key (log, level, tile_index), and one literal per id in the parsed query
 * (a tuple IN would cost three). Aliases differ from the column names on purpose: `max(width)
 * AS width` would make argMax(hashes, width) aggregate an aggregate. `ids` must not be empty.
 */
export function selectTiles(
  database: string,
  origin: string,
  ids: readonly { level: number; index: number }[],
): string {
  return `SELECT level, tile_index, max(width) AS widest_width, argMax(hashes, width) AS widest_hashes
FROM ${merkleTilesTable(database)}
WHERE log = ${quoteString(origin)} AND ${tileIdsCondition(ids)}
GROUP BY level, tile_index`;
}

/** The widest stored width of the tiles `ids` of one log: putTiles' check before it inserts. `ids` must not be empty. */
export function selectTileWidths(
  database: string,
  origin: string,
  ids: readonly { level: number; index: number }[],
): string {
  return `SELECT level, tile_index, max(width) AS widest_width
FROM ${merkleTilesTable(database)}
WHERE log = ${quoteString(origin)} AND ${tileIdsCondition(ids)}
GROUP BY level, tile_index`;
}

function tileIdsCondition(ids: readonly { level: number; index: number }[]): string {
  const byLevel = new Map<number, Set<number>>();
  for (const { level, index } of ids) {
    let indexes = byLevel.get(level);
    if (indexes === undefined) byLevel.set(level, (indexes = new Set()));
    indexes.add(index);
  }
  const terms = [...byLevel]
    .sort(([a], [b]) => a - b)
    .map(
      ([level, indexes]) =>
        `(level = ${quoteUInt(level)} AND tile_index IN (${[...indexes]
          .sort((a, b) => a - b)
          .map(quoteUInt)
          .join(', ')}))`,
    );
  return `(${terms.join(' OR ')})`;
}

/**
 * Leaves covered by the level-0 tiles of one log: max(tile_index · 256 + width) over every
 * stored version (the widest version of a tile is also its maximum), '0' when there is none.
 */
export function selectTileCoverage(database: string, origin: string): string {
  return `SELECT toString(max(tile_index * 256 + width)) AS coverage
FROM ${merkleTilesTable(database)}
WHERE log = ${quoteString(origin)} AND level = 0`;
}

/**
 * Checkpoints of one log, ascending size then signing time; identical copies (a retried put)
 * collapse. The remaining sort keys only make the order of same-size, same-time checkpoints
 * stable.
 */
export function selectCheckpoints(database: string, origin: string): string {
  return `SELECT DISTINCT ${CHECKPOINT_COLUMNS.join(', ')}
FROM ${checkpointsTable(database)}
WHERE log = ${quoteString(origin)}
ORDER BY size, signed_ms, root, note`;
}

/** The checkpoint of one log with the largest size (the latest signed among equal sizes), or no row. */
export function selectLatestCheckpoint(database: string, origin: string): string {
  return `SELECT ${CHECKPOINT_COLUMNS.join(', ')}
FROM ${checkpointsTable(database)}
WHERE log = ${quoteString(origin)}
ORDER BY size DESC, signed_ms DESC, root DESC, note DESC
LIMIT 1`;
}

/** Origins with at least one checkpoint, in byte order. */
export function selectCheckpointedLogs(database: string): string {
  return `SELECT DISTINCT log FROM ${checkpointsTable(database)} ORDER BY log`;
}

/**
 * The rows of one log at the given indexes, duplicates included, ascending idx (ties as in
 * scan). The table is sorted for per-patient queries, so this filters the log's rows: fine
 * for the handful of rows a proof or evidence bundle needs. `indexes` must not be empty.
 */
export function selectRecordsAt(database: string, origin: string, indexes: readonly number[]): string {
  return `SELECT ${ACCESS_LOG_COLUMNS.join(', ')}
FROM ${quoteIdentifier(database)}.access_log
WHERE log = ${quoteString(origin)} AND idx IN (${indexes.map(quoteUInt).join(', ')})
ORDER BY idx, chain, leaf_hash`;
}

/**
 * A tenant's rows whose event id is one of `eventIds`, in any log, by log then idx. tenant is
 * the first sort key, so only that tenant's range is read. `eventIds` must not be empty.
 */
export function selectRecordsByEventId(database: string, tenant: string, eventIds: readonly string[]): string {
  return `SELECT ${ACCESS_LOG_COLUMNS.join(', ')}
FROM ${quoteIdentifier(database)}.access_log
WHERE tenant = ${quoteString(tenant)} AND event_id IN (${eventIds.map(quoteString).join(', ')})
ORDER BY log, idx, chain, leaf_hash`;
}

/** Health check that exercises credentials and database access, not just the socket. */
export const SELECT_ONE = 'SELECT 1 AS ok';
export const SELECT_VERSION = 'SELECT version() AS version';
