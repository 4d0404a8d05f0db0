/**
 * Every SQL text the detection store (`detection.sqlite`) prepares. Values only ever arrive as
 * bound parameters. A file of its own, apart from the ledger, so the ledger file stays
 * append-only while alerts are updated in place.
 */

/** Migration 1 of the detection database: reference data, alerts and detector cursors. */
export const CREATE_DETECTION_TABLES = [
  // One row per putReference: the version is the tenant's previous maximum + 1.
  `CREATE TABLE reference_loads (
    tenant TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    source TEXT NOT NULL,
    loaded_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, version)
) STRICT`,
  // Every version of every record is kept: reads as of an earlier version stay possible.
  `CREATE TABLE reference_records (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    record_json TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, record_key, version)
) STRICT`,
  // alert_json is the merged alert; the other columns are copies of its fields for filters and order.
  `CREATE TABLE alerts (
    tenant TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    day TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    risk_score INTEGER NOT NULL,
    first_event_at INTEGER NOT NULL,
    last_event_at INTEGER NOT NULL,
    alert_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, alert_id)
) STRICT`,
  'CREATE INDEX alerts_by_day ON alerts (tenant, day)',
  'CREATE INDEX alerts_by_user ON alerts (tenant, user_id, day)',
  'CREATE INDEX alerts_by_patient ON alerts (tenant, patient_id, day)',
  `CREATE TABLE detector_cursors (
    name TEXT NOT NULL,
    origin TEXT NOT NULL,
    next_index INTEGER NOT NULL,
    PRIMARY KEY (name, origin)
) STRICT`,
] as const;

export const SELECT_MAX_REFERENCE_VERSION =
  'SELECT coalesce(max(version), 0) AS version FROM reference_loads WHERE tenant = ?';

export const SELECT_REFERENCE_VERSION_AS_OF =
  'SELECT coalesce(max(version), 0) AS version FROM reference_loads WHERE tenant = ? AND version <= ?';

export const INSERT_REFERENCE_RECORD =
  'INSERT INTO reference_records (tenant, kind, record_key, version, record_json) VALUES (?, ?, ?, ?, ?)';

export const INSERT_REFERENCE_LOAD =
  'INSERT INTO reference_loads (tenant, version, kind, record_count, source, loaded_at) VALUES (?, ?, ?, ?, ?, ?)';

/**
 * Per kind and key, the record of the highest version ≤ the given one. SQLite documents that a
 * bare column next to a single max() comes from the row holding the maximum, so this is one pass
 * over the tenant's range of the primary key. Ordered by kind and key (byte order), as the
 * ClickHouse store orders them.
 */
export const SELECT_REFERENCE_RECORDS_AS_OF = `SELECT kind, record_key, record_json, max(version) AS version
FROM reference_records
WHERE tenant = ? AND version <= ?
GROUP BY kind, record_key
ORDER BY kind, record_key`;

export const SELECT_REFERENCE_VERSIONS =
  'SELECT tenant, max(version) AS version FROM reference_loads GROUP BY tenant ORDER BY tenant';

export const SELECT_REFERENCE_LOADS = `SELECT tenant, version, kind, record_count, source, loaded_at
FROM reference_loads
WHERE tenant = ?
ORDER BY version`;

/** Columns of `alerts` in the order UPSERT_ALERT binds them. */
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
  'updated_at',
] as const;

export const SELECT_ALERT = `SELECT ${ALERT_COLUMNS.join(', ')} FROM alerts WHERE tenant = ? AND alert_id = ?`;

export const UPSERT_ALERT = `INSERT INTO alerts (${ALERT_COLUMNS.join(', ')})
VALUES (${ALERT_COLUMNS.map(() => '?').join(', ')})
ON CONFLICT (tenant, alert_id) DO UPDATE SET ${ALERT_COLUMNS.slice(2)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;

/** Filters of alerts(query), each present only when the query has it (bound in this order). */
export interface AlertFilters {
  fromDay: boolean;
  toDay: boolean;
  ruleId: boolean;
  userId: boolean;
  patientId: boolean;
  minSeverity: boolean;
}

/**
 * The alert list for the given filters: tenant, then each present filter, then the limit, as
 * bound parameters. Newest day first, then riskiest, then alert id.
 */
export function selectAlerts(filters: AlertFilters): string {
  const where = ['tenant = ?'];
  if (filters.fromDay) where.push('day >= ?');
  if (filters.toDay) where.push('day <= ?');
  if (filters.ruleId) where.push('rule_id = ?');
  if (filters.userId) where.push('user_id = ?');
  if (filters.patientId) where.push('patient_id = ?');
  if (filters.minSeverity) where.push('severity_rank >= ?');
  return `SELECT ${ALERT_COLUMNS.join(', ')}
FROM alerts
WHERE ${where.join(' AND ')}
ORDER BY day DESC, risk_score DESC, alert_id
LIMIT ?`;
}

export const SELECT_CURSOR = 'SELECT origin, next_index FROM detector_cursors WHERE name = ? ORDER BY origin';

export const UPSERT_CURSOR = `INSERT INTO detector_cursors (name, origin, next_index) VALUES (?, ?, ?)
ON CONFLICT (name, origin) DO UPDATE SET next_index = excluded.next_index`;
