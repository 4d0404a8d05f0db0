import { ACCESS_ROW_COLUMNS, ACCESS_VOLUME_BUCKETS, type AccessVolumeBucket } from '@phi-audit/ledger';
import { ACCESS_LOG_COLUMNS } from './access-log-row.js';

/**
 * Every SQL text the store prepares. Values only ever arrive as bound parameters.
 * Scans and heads order duplicates of an index by `seq` (insertion order in embedded mode),
 * so a duplicated or forged row is returned beside the genuine one, never instead of it.
 */

/** Migration 1: the ledger table and its indexes. */
export const CREATE_ACCESS_LOG = [
  /*
   * STRICT: every column keeps its declared type, so a reader never has to guess.
   * No UNIQUE on (log, idx) or on event ids, deliberately: tampering is detected by
   * verification, and a constraint would only hide some tampering from the tests while an
   * attacker with the file can drop it anyway. seq is the source offset: the global ingest
   * sequence embedded mode assigns, which the detector tails.
   */
  `CREATE TABLE access_log (
    seq INTEGER PRIMARY KEY,
    log TEXT NOT NULL,
    idx INTEGER NOT NULL,
    source_offset INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    occurred_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    source_system TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_role TEXT NOT NULL,
    user_department TEXT NOT NULL,
    workstation TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    event_json TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    chain TEXT NOT NULL
) STRICT`,
  'CREATE INDEX access_log_by_log ON access_log (log, idx)',
  'CREATE INDEX access_log_by_patient ON access_log (tenant, patient_id, occurred_ms)',
  'CREATE INDEX access_log_by_user ON access_log (tenant, user_id, occurred_ms)',
  'CREATE INDEX access_log_by_event ON access_log (tenant, source_system, event_id)',
] as const;

export const CREATE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_ms INTEGER NOT NULL
) STRICT`;
export const HAS_SCHEMA_MIGRATIONS = `SELECT 1 AS ok FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`;
export const SELECT_APPLIED_MIGRATIONS = 'SELECT version FROM schema_migrations ORDER BY version';
export const INSERT_APPLIED_MIGRATION = 'INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)';

/** Positional: seq then ACCESS_LOG_COLUMNS, the order rowParams() produces. */
export const INSERT_ROW = `INSERT INTO access_log (seq, ${ACCESS_LOG_COLUMNS.join(', ')})
VALUES (${Array.from({ length: ACCESS_LOG_COLUMNS.length + 1 }, () => '?').join(', ')})`;

/**
 * Every log name, one index seek per log (a skip-scan over access_log_by_log) rather than
 * a pass over every row.
 */
export const SELECT_ORIGINS = `WITH RECURSIVE origins(log) AS (
    SELECT min(log) FROM access_log
    UNION ALL
    SELECT (SELECT min(log) FROM access_log WHERE log > origins.log) FROM origins WHERE origins.log IS NOT NULL
)
SELECT log FROM origins WHERE log IS NOT NULL`;

/** The row with the highest index of a log (the last inserted among duplicates); none when empty. */
export const SELECT_HEAD = `SELECT idx, chain, source_offset FROM access_log
WHERE log = ? ORDER BY idx DESC, seq DESC LIMIT 1`;

/** One page of a scan: rows after (idx, seq) = (?, ?) in ascending (idx, seq). */
export const SELECT_SCAN_PAGE = `SELECT CAST(idx AS TEXT) AS idx_text, CAST(seq AS TEXT) AS seq_text, ${ACCESS_LOG_COLUMNS.join(', ')}
FROM access_log
WHERE log = ? AND (idx, seq) > (?, ?)
ORDER BY idx, seq
LIMIT ?`;

/**
 * Keys of the last `count` records of a log: idx ≥ max(idx) + 1 − count, ascending. Head and
 * window are read by one statement, so they cannot come from different moments.
 * Parameters: origin, origin, count.
 */
export const SELECT_RECENT_KEYS = `SELECT idx, tenant, source_system, event_id FROM access_log
WHERE log = ? AND idx >= (SELECT max(idx) FROM access_log WHERE log = ?) + 1 - ?
ORDER BY idx, seq`;

export const SELECT_KEY_EXISTS = `SELECT 1 AS found FROM access_log
WHERE tenant = ? AND source_system = ? AND event_id = ? LIMIT 1`;

export const SELECT_MAX_SEQ = 'SELECT max(seq) AS max_seq FROM access_log';

export const SELECT_LOGS = 'SELECT log, count(*) AS records FROM access_log GROUP BY log ORDER BY log';

export const SELECT_COUNTS_BY_TENANT =
  'SELECT tenant, count(*) AS records FROM access_log GROUP BY tenant ORDER BY tenant';

/**
 * Newest first within one tenant and one patient or user, optional [from, to) on the event
 * time. Unbounded ends are passed as 0 and MAX_SAFE_INTEGER so one statement serves all.
 */
function selectAccesses(column: 'patient_id' | 'user_id'): string {
  return `SELECT ${ACCESS_ROW_COLUMNS.join(', ')} FROM access_log
WHERE tenant = ? AND ${column} = ? AND occurred_ms >= ? AND occurred_ms < ?
ORDER BY occurred_ms DESC, log, idx
LIMIT ?`;
}
export const SELECT_ACCESSES_BY_PATIENT = selectAccesses('patient_id');
export const SELECT_ACCESSES_BY_USER = selectAccesses('user_id');

/**
 * Migration 2: Merkle tiles, signed checkpoints, and the event-id lookup proofs need.
 */
export const CREATE_PROOF_STORAGE = [
  /*
   * One row per tile (C2SP tlog-tiles, height 8): `hashes` is exactly the `width` node hashes
   * concatenated (width × 32 bytes). Upserted keeping the widest version, so a tile only ever
   * grows. Tiles are a cache for proofs: verification recomputes them from the records and never
   * trusts them, so a primary key (which lets an upsert replace a narrower row) hides nothing.
   * The CHECKs restate the store's validation for anything else writing the file.
   */
  `CREATE TABLE merkle_tiles (
    log TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level >= 0),
    tile_index INTEGER NOT NULL CHECK (tile_index >= 0),
    width INTEGER NOT NULL CHECK (width BETWEEN 1 AND 256),
    hashes BLOB NOT NULL CHECK (length(hashes) = width * 32),
    PRIMARY KEY (log, level, tile_index)
) STRICT, WITHOUT ROWID`,
  /*
   * Signed checkpoints, as signed (the note) plus the parsed fields for lookups. No UNIQUE,
   * deliberately, like access_log: a forged or altered checkpoint must sit beside the genuine
   * one where verification finds it, rather than be silently rejected or replace it. An
   * identical duplicate (a retried put) is skipped by the insert itself and harmless anyway.
   */
  `CREATE TABLE checkpoints (
    log TEXT NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL,
    signed_ms INTEGER NOT NULL
) STRICT`,
  'CREATE INDEX checkpoints_by_log ON checkpoints (log, size)',
  // recordsByEventId asks by tenant and event id across source systems: access_log_by_event leads with source_system.
  'CREATE INDEX access_log_by_tenant_event ON access_log (tenant, event_id)',
] as const;

/** Keeps the widest version of a tile: an equal or narrower one never replaces it. Positional: log, level, index, width, hashes. */
export const UPSERT_TILE = `INSERT INTO merkle_tiles (log, level, tile_index, width, hashes) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (log, level, tile_index) DO UPDATE SET width = excluded.width, hashes = excluded.hashes
WHERE excluded.width > merkle_tiles.width`;

export const SELECT_TILE = `SELECT level, tile_index, hashes FROM merkle_tiles WHERE log = ? AND level = ? AND tile_index = ?`;

/** Leaves covered by the level-0 tiles: max(index·256 + width), 0 when none. */
export const SELECT_TILE_COVERAGE = `SELECT coalesce(max(tile_index * 256 + width), 0) AS leaves
FROM merkle_tiles WHERE log = ? AND level = 0`;

/** Skips an exact duplicate of a stored checkpoint (a retried put); anything else is stored beside what is there. */
export const INSERT_CHECKPOINT = `INSERT INTO checkpoints (log, size, root, note, signed_ms)
SELECT @log, @size, @root, @note, @signed_ms
WHERE NOT EXISTS (
    SELECT 1 FROM checkpoints
    WHERE log = @log AND size = @size AND root = @root AND note = @note AND signed_ms = @signed_ms
)`;

/** Ties (same size and signing time: only tampering makes those) in insertion order. */
export const SELECT_CHECKPOINTS = `SELECT log, size, root, note, signed_ms FROM checkpoints
WHERE log = ? ORDER BY size, signed_ms, rowid`;

/** The last row SELECT_CHECKPOINTS would return. */
export const SELECT_LATEST_CHECKPOINT = `SELECT log, size, root, note, signed_ms FROM checkpoints
WHERE log = ? ORDER BY size DESC, signed_ms DESC, rowid DESC LIMIT 1`;

export const SELECT_CHECKPOINTED_LOGS = 'SELECT DISTINCT log FROM checkpoints ORDER BY log';

/** The rows at one index of a log, duplicates in insertion order. */
export const SELECT_RECORDS_AT = `SELECT seq, ${ACCESS_LOG_COLUMNS.join(', ')} FROM access_log
WHERE log = ? AND idx = ? ORDER BY seq`;

/** The rows of one tenant with one event id, any source system and log (uses access_log_by_tenant_event). */
export const SELECT_RECORDS_BY_EVENT_ID = `SELECT seq, ${ACCESS_LOG_COLUMNS.join(', ')} FROM access_log
WHERE tenant = ? AND event_id = ?`;

/**
 * Migration 3: the dashboard's access volume reads one tenant's event-time range, which none of
 * the earlier indexes serves (each puts patient, user, source or event id between tenant and
 * time, so the range became a scan of all the tenant's rows plus a table lookup each). Covering:
 * outcome and user_id ride along, so the volume query never touches the table rows.
 */
export const CREATE_ACCESS_VOLUME_INDEX = [
  'CREATE INDEX access_log_by_tenant_time ON access_log (tenant, occurred_ms, outcome, user_id)',
] as const;

/**
 * Access volume of one tenant per bucket of `bucket`'s width, buckets with events only, ascending.
 * The width is one of two constants, written into the text: SQLite's `/` divides integers only
 * when both operands are integers, and a literal is one. Bound: tenant, from (already rounded
 * down to the bucket), to. Reads access_log_by_tenant_time alone (a range of it).
 */
function selectAccessVolume(bucket: AccessVolumeBucket): string {
  const width = ACCESS_VOLUME_BUCKETS[bucket];
  return `SELECT (occurred_ms / ${width}) * ${width} AS start, count(*) AS events,
    sum(outcome = 'failure') AS failures, count(DISTINCT user_id) AS users
FROM access_log
WHERE tenant = ? AND occurred_ms >= ? AND occurred_ms < ?
GROUP BY start
ORDER BY start`;
}
export const SELECT_ACCESS_VOLUME_HOUR = selectAccessVolume('hour');
export const SELECT_ACCESS_VOLUME_DAY = selectAccessVolume('day');
