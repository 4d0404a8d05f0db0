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

/** Health check that exercises credentials and database access, not just the socket. */
export const SELECT_ONE = 'SELECT 1 AS ok';
export const SELECT_VERSION = 'SELECT version() AS version';
