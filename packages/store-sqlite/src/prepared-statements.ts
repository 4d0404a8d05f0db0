import type Database from 'better-sqlite3';
import type { AccessRowColumns, AccessVolumeBucket } from '@phi-audit/ledger';
import type { StoredRow } from './access-log-row.js';
import type { CheckpointRow, TileParams, TileRow } from './proof-rows.js';
import * as sql from './statements.js';

type ScanRow = StoredRow & { idx_text: string; seq_text: string };
type RecordRow = StoredRow & { seq: number };
type RecentKeyRow = { idx: number; tenant: string; source_system: string; event_id: string };
type VolumeRow = { start: number; events: number; failures: number; users: number };

type Stmt<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** Every statement the store runs. */
export interface PreparedStatements {
  insert: Stmt<unknown[]>;
  origins: Stmt<[], { log: string }>;
  head: Stmt<[string], { idx: number; chain: string; source_offset: number }>;
  scanPage: Stmt<[string, bigint, bigint, number], ScanRow>;
  recentKeys: Stmt<[string, string, number], RecentKeyRow>;
  keyExists: Stmt<[string, string, string], { found: number }>;
  maxSeq: Stmt<[], { max_seq: number | null }>;
  logs: Stmt<[], { log: string; records: number }>;
  countsByTenant: Stmt<[], { tenant: string; records: number }>;
  byPatient: Stmt<[string, string, number, number, number], AccessRowColumns>;
  byUser: Stmt<[string, string, number, number, number], AccessRowColumns>;
  /** Per bucket width: bound tenant, from (rounded down to the bucket), to. */
  volume: Record<AccessVolumeBucket, Stmt<[string, number, number], VolumeRow>>;
  upsertTile: Stmt<TileParams>;
  tile: Stmt<[string, number, number], TileRow>;
  tileCoverage: Stmt<[string], { leaves: number }>;
  insertCheckpoint: Stmt<[CheckpointRow]>;
  checkpoints: Stmt<[string], CheckpointRow>;
  latestCheckpoint: Stmt<[string], CheckpointRow>;
  checkpointedLogs: Stmt<[], { log: string }>;
  recordsAt: Stmt<[string, number], RecordRow>;
  recordsByEventId: Stmt<[string, string], RecordRow>;
}

/** Prepares every statement once per connection (better-sqlite3 statements are reusable). */
export function prepareStatements(db: Database.Database): PreparedStatements {
  return {
    insert: db.prepare<unknown[]>(sql.INSERT_ROW),
    origins: db.prepare<[], { log: string }>(sql.SELECT_ORIGINS),
    head: db.prepare<[string], { idx: number; chain: string; source_offset: number }>(sql.SELECT_HEAD),
    scanPage: db.prepare<[string, bigint, bigint, number], ScanRow>(sql.SELECT_SCAN_PAGE),
    recentKeys: db.prepare<[string, string, number], RecentKeyRow>(sql.SELECT_RECENT_KEYS),
    keyExists: db.prepare<[string, string, string], { found: number }>(sql.SELECT_KEY_EXISTS),
    maxSeq: db.prepare<[], { max_seq: number | null }>(sql.SELECT_MAX_SEQ),
    logs: db.prepare<[], { log: string; records: number }>(sql.SELECT_LOGS),
    countsByTenant: db.prepare<[], { tenant: string; records: number }>(sql.SELECT_COUNTS_BY_TENANT),
    byPatient: db.prepare<[string, string, number, number, number], AccessRowColumns>(sql.SELECT_ACCESSES_BY_PATIENT),
    byUser: db.prepare<[string, string, number, number, number], AccessRowColumns>(sql.SELECT_ACCESSES_BY_USER),
    volume: {
      hour: db.prepare<[string, number, number], VolumeRow>(sql.SELECT_ACCESS_VOLUME_HOUR),
      day: db.prepare<[string, number, number], VolumeRow>(sql.SELECT_ACCESS_VOLUME_DAY),
    },
    upsertTile: db.prepare<TileParams>(sql.UPSERT_TILE),
    tile: db.prepare<[string, number, number], TileRow>(sql.SELECT_TILE),
    tileCoverage: db.prepare<[string], { leaves: number }>(sql.SELECT_TILE_COVERAGE),
    insertCheckpoint: db.prepare<[CheckpointRow]>(sql.INSERT_CHECKPOINT),
    checkpoints: db.prepare<[string], CheckpointRow>(sql.SELECT_CHECKPOINTS),
    latestCheckpoint: db.prepare<[string], CheckpointRow>(sql.SELECT_LATEST_CHECKPOINT),
    checkpointedLogs: db.prepare<[], { log: string }>(sql.SELECT_CHECKPOINTED_LOGS),
    recordsAt: db.prepare<[string, number], RecordRow>(sql.SELECT_RECORDS_AT),
    recordsByEventId: db.prepare<[string, string], RecordRow>(sql.SELECT_RECORDS_BY_EVENT_ID),
  };
}
