import { quoteIdentifier, quoteString, quoteUInt } from './sql-literal.js';

/**
 * Every SQL text the detection store sends, as pure builders shared with sqlCatalog() (so the
 * current-engine check runs exactly what production runs). Values go through sql-literal.ts
 * only; nothing here may use syntax newer than 18.16.1. Aliases never repeat a column name (an
 * alias shadows the column of the same name in WHERE and ORDER BY).
 */

/** Columns of `reference_records`, in table order (also the JSONEachRow keys of its insert). */
export const REFERENCE_RECORD_COLUMNS = ['tenant', 'kind', 'record_key', 'version', 'record_json'] as const;

/** Columns of `reference_loads`, in table order. */
export const REFERENCE_LOAD_COLUMNS = ['tenant', 'version', 'kind', 'record_count', 'source', 'loaded_at'] as const;

/** Columns of `alerts`, in table order. */
export const ALERT_COLUMNS = [
  'tenant',
  'alert_id',
  'day',
  'rule_id',
  'user_id',
  'patient_id',
  'severity_rank',
  'risk_score',
  'first_event_at',
  'last_event_at',
  'alert_json',
  'revision',
  'updated_at',
] as const;

/** Columns an alert read returns per stored row. */
export const ALERT_READ_COLUMNS = [
  'alert_id',
  'alert_json',
  'revision',
  'day',
  'rule_id',
  'user_id',
  'patient_id',
  'severity_rank',
  'risk_score',
] as const;

/**
 * Migration 3, statement 1: one row per putReference. A load's records are inserted before its
 * row, and reads only take records whose version has a row: a load that failed half-way is
 * never seen. Unpartitioned, like access_log: one insert is one part.
 */
export function createReferenceLoadsTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.reference_loads (
    tenant String,
    version UInt64,
    kind String,
    record_count UInt64,
    source String,
    loaded_at UInt64
) ENGINE = MergeTree
ORDER BY (tenant, version)`;
}

/** Migration 3, statement 2: every version of every reference record (reads as of a version need them). */
export function createReferenceRecordsTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.reference_records (
    tenant String,
    kind String,
    record_key String,
    version UInt64,
    record_json String
) ENGINE = MergeTree
ORDER BY (tenant, kind, record_key, version)`;
}

/**
 * Migration 3, statement 3: alerts, one row per written state (alert_json, the merged alert as
 * its writer saw it) with copies of its fields for filters and order ('' for no patient).
 * ReplacingMergeTree(revision) lets merges drop superseded states; reads never rely on that:
 * they fold every stored row of an alert id with mergeAlert.
 */
export function createAlertsTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.alerts (
    tenant String,
    alert_id String,
    day String,
    rule_id String,
    user_id String,
    patient_id String,
    severity_rank UInt8,
    risk_score UInt8,
    first_event_at UInt64,
    last_event_at UInt64,
    alert_json String,
    revision UInt64,
    updated_at UInt64
) ENGINE = ReplacingMergeTree(revision)
ORDER BY (tenant, alert_id)`;
}

/** Table names for the client's insert(). */
export const referenceRecordsTable = (database: string): string => `${quoteIdentifier(database)}.reference_records`;
export const referenceLoadsTable = (database: string): string => `${quoteIdentifier(database)}.reference_loads`;
export const alertsTable = (database: string): string => `${quoteIdentifier(database)}.alerts`;

/** The texts @clickhouse/client sends for the inserts (data follows on the next line). */
export function insertReferenceRecordsQuery(database: string): string {
  return `INSERT INTO ${referenceRecordsTable(database)} (${REFERENCE_RECORD_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}
export function insertReferenceLoadQuery(database: string): string {
  return `INSERT INTO ${referenceLoadsTable(database)} (${REFERENCE_LOAD_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}
export function insertAlertsQuery(database: string): string {
  return `INSERT INTO ${alertsTable(database)} (${ALERT_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}

/**
 * The highest version the tenant has used, in loads or in records ('0' when none): a load whose
 * records were stored but whose row was not (a crash between the two inserts) still uses up its
 * version, so its orphaned records never become part of a later load.
 */
export function selectMaxReferenceVersion(database: string, tenant: string): string {
  const t = quoteString(tenant);
  return `SELECT toString(greatest(
    (SELECT max(version) FROM ${referenceLoadsTable(database)} WHERE tenant = ${t}),
    (SELECT max(version) FROM ${referenceRecordsTable(database)} WHERE tenant = ${t}))) AS top_version`;
}

/** The highest loaded version ≤ `asOf` of the tenant ('0' when none). */
export function selectReferenceVersionAsOf(database: string, tenant: string, asOf: number): string {
  return `SELECT toString(max(version)) AS top_version
FROM ${referenceLoadsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND version <= ${quoteUInt(asOf)}`;
}

/**
 * Per kind and key, every stored row of the highest version ≤ `version` among versions that have
 * a load row, ordered by kind and key (byte order, as the SQLite store orders them). Normally one
 * row per key; more (a retried insert, a racing load, tampering) reach the caller to judge rather
 * than being picked from arbitrarily, as argMax would.
 */
export function selectReferenceRecordsAsOf(database: string, tenant: string, version: number): string {
  const table = referenceRecordsTable(database);
  const t = quoteString(tenant);
  const v = quoteUInt(version);
  return `SELECT kind, record_key, record_json
FROM ${table}
WHERE tenant = ${t} AND (kind, record_key, version) IN (
    SELECT kind, record_key, max(version)
    FROM ${table}
    WHERE tenant = ${t} AND version <= ${v}
      AND version IN (SELECT version FROM ${referenceLoadsTable(database)} WHERE tenant = ${t} AND version <= ${v})
    GROUP BY kind, record_key
)
ORDER BY kind, record_key, record_json`;
}

export function selectReferenceVersions(database: string): string {
  return `SELECT tenant, toString(max(version)) AS top_version
FROM ${referenceLoadsTable(database)}
GROUP BY tenant
ORDER BY tenant`;
}

/** Every load row of the tenant, ascending version (identical rows of a retried insert collapse). */
export function selectReferenceLoads(database: string, tenant: string): string {
  return `SELECT DISTINCT ${REFERENCE_LOAD_COLUMNS.join(', ')}
FROM ${referenceLoadsTable(database)}
WHERE tenant = ${quoteString(tenant)}
ORDER BY version, kind, source, loaded_at, record_count`;
}

/**
 * Every stored row of the given alert ids, by tenant: what upsertAlerts folds before it writes.
 * Each term is a range of the (tenant, alert_id) sort key. `idsByTenant` must not be empty.
 */
export function selectAlertRows(database: string, idsByTenant: ReadonlyMap<string, readonly string[]>): string {
  const terms = [...idsByTenant].map(
    ([tenant, ids]) => `(tenant = ${quoteString(tenant)} AND alert_id IN (${ids.map(quoteString).join(', ')}))`,
  );
  return `SELECT tenant, ${ALERT_READ_COLUMNS.join(', ')}
FROM ${alertsTable(database)}
WHERE ${terms.join(' OR ')}`;
}

/** Filters of alerts(query); days inclusive, minSeverityRank a severity rank. */
export interface AlertListFilter {
  tenant: string;
  fromDay?: string | undefined;
  toDay?: string | undefined;
  ruleId?: string | undefined;
  userId?: string | undefined;
  patientId?: string | undefined;
  minSeverityRank?: number | undefined;
  limit: number;
}

/**
 * Every stored row of the alerts one page of alerts(query) holds. The inner query picks the
 * page: per alert id the maximum risk and severity over its rows, which is the merged alert's
 * (mergeAlert keeps the maximum of both), so the page is right before and after merges. Day,
 * rule, user and patient are part of the alert id, the same in every row of it. The caller
 * folds the rows per id and orders them the same way.
 */
export function selectAlertPage(database: string, q: AlertListFilter): string {
  const table = alertsTable(database);
  const t = quoteString(q.tenant);
  const where = [`tenant = ${t}`];
  if (q.fromDay !== undefined) where.push(`day >= ${quoteString(q.fromDay)}`);
  if (q.toDay !== undefined) where.push(`day <= ${quoteString(q.toDay)}`);
  if (q.ruleId !== undefined) where.push(`rule_id = ${quoteString(q.ruleId)}`);
  if (q.userId !== undefined) where.push(`user_id = ${quoteString(q.userId)}`);
  if (q.patientId !== undefined) where.push(`patient_id = ${quoteString(q.patientId)}`);
  const having = q.minSeverityRank === undefined ? '' : `\n    HAVING top_rank >= ${quoteUInt(q.minSeverityRank)}`;
  return `SELECT ${ALERT_READ_COLUMNS.join(', ')}
FROM ${table}
WHERE tenant = ${t} AND alert_id IN (
    SELECT alert_id
    FROM (
        SELECT alert_id, any(day) AS alert_day, max(risk_score) AS top_risk, max(severity_rank) AS top_rank
        FROM ${table}
        WHERE ${where.join(' AND ')}
        GROUP BY alert_id${having}
        ORDER BY alert_day DESC, top_risk DESC, alert_id
        LIMIT ${quoteUInt(q.limit)}
    )
)`;
}

/** Every stored row of one alert of one tenant. */
export function selectAlert(database: string, tenant: string, alertId: string): string {
  return `SELECT ${ALERT_READ_COLUMNS.join(', ')}
FROM ${alertsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND alert_id = ${quoteString(alertId)}`;
}
