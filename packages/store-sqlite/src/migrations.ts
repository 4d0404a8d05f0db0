import { CREATE_ACCESS_LOG, CREATE_ACCESS_VOLUME_INDEX, CREATE_PROOF_STORAGE } from './statements.js';

/**
 * Versioned schema changes, applied in order, each exactly once and each in its own
 * transaction together with its row in `schema_migrations` (SQLite DDL is transactional, so
 * a migration is either fully applied and recorded or not at all). Never edit a released
 * migration: add a new one.
 */
export interface Migration {
  /** 1, 2, 3, … without gaps. */
  version: number;
  name: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'access_log and its indexes', statements: CREATE_ACCESS_LOG },
  {
    version: 2,
    name: 'merkle_tiles, checkpoints and the (tenant, event_id) index',
    statements: CREATE_PROOF_STORAGE,
  },
  {
    version: 3,
    name: 'the (tenant, occurred_ms) covering index of the access volume',
    statements: CREATE_ACCESS_VOLUME_INDEX,
  },
];

/** The schema version this build writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
