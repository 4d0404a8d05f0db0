export { STORE_ERROR_CODES, StoreError, isStoreError, sqliteErrorCode, type StoreErrorCode } from './errors.js';
export {
  DETECTION_FILE,
  KEYS_FILE,
  LEDGER_FILE,
  detectionFileIn,
  embeddedOrigin,
  keysFileIn,
  ledgerFileIn,
} from './embedded-layout.js';
export { idempotencyKeyOf, type IdempotencyKeyFields } from './idempotency-key.js';
export {
  ACCESS_LOG_COLUMNS,
  DERIVED_COLUMNS,
  deriveColumns,
  findColumnMismatch,
  rowFromRecord,
  type AccessLogRow,
  type DerivedColumn,
  type DerivedColumns,
  type StoredRow,
} from './access-log-row.js';
export { MAX_LOOKUP_KEYS } from './proof-rows.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations.js';
export { SqliteLedgerStore, createSqliteLedgerStore, type SqliteLedgerStoreOptions } from './sqlite-ledger-store.js';
export { DETECTION_MIGRATIONS } from './detection-migrations.js';
export {
  SqliteDetectionStore,
  createSqliteDetectionStore,
  type SqliteDetectionStoreOptions,
} from './sqlite-detection-store.js';
