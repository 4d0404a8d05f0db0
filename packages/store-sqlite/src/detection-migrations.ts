import { CREATE_ALERT_DECISIONS_TABLE } from './alert-review-statements.js';
import { CREATE_CASE_EVENTS_TABLE } from './case-statements.js';
import { CREATE_DETECTION_TABLES } from './detection-statements.js';
import type { Migration } from './migrations.js';

/**
 * The detection database's own versioned schema changes (its own `schema_migrations` table, in
 * its own file), applied like the ledger's: in order, each once, each in one transaction. Never
 * edit a released migration: add a new one.
 */
export const DETECTION_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'detection: reference_loads, reference_records, alerts, detector_cursors',
    statements: CREATE_DETECTION_TABLES,
  },
  {
    version: 2,
    name: 'alert review: alert_decisions',
    statements: CREATE_ALERT_DECISIONS_TABLE,
  },
  {
    version: 3,
    name: 'cases: case_events',
    statements: CREATE_CASE_EVENTS_TABLE,
  },
];
