import {
  createAccessLogByUserTable,
  createAccessLogByUserView,
  createAccessLogTable,
  createCheckpointsTable,
  createMerkleTilesTable,
} from './statements.js';
import { createAlertDecisionsTable } from './alert-review-statements.js';
import { createCaseEventsTable } from './case-statements.js';
import { createAlertsTable, createReferenceLoadsTable, createReferenceRecordsTable } from './detection-statements.js';

/**
 * Versioned schema changes, applied in order, each exactly once (recorded in
 * `schema_migrations`). Every statement is idempotent (IF NOT EXISTS) so a migration
 * interrupted before it was recorded can simply run again. Never edit a released
 * migration: add a new one.
 */
export interface Migration {
  /** 1, 2, 3, … without gaps. */
  version: number;
  name: string;
  statements(database: string): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'access_log and per-user view',
    statements: (db) => [createAccessLogTable(db), createAccessLogByUserTable(db), createAccessLogByUserView(db)],
  },
  {
    version: 2,
    name: 'merkle_tiles and checkpoints',
    statements: (db) => [createMerkleTilesTable(db), createCheckpointsTable(db)],
  },
  {
    version: 3,
    name: 'detection: reference_loads, reference_records and alerts',
    statements: (db) => [createReferenceLoadsTable(db), createReferenceRecordsTable(db), createAlertsTable(db)],
  },
  {
    version: 4,
    name: 'alert review: alert_decisions',
    statements: (db) => [createAlertDecisionsTable(db)],
  },
  {
    version: 5,
    name: 'cases: case_events',
    statements: (db) => [createCaseEventsTable(db)],
  },
];
