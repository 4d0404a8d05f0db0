export { STORE_ERROR_CODES, StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export { quoteString, quoteIdentifier, quoteUInt, isIdentifier } from './sql-literal.js';
export {
  ACCESS_LOG_COLUMNS,
  DERIVED_COLUMNS,
  findColumnMismatch,
  rowFromRecord,
  type AccessLogRow,
  type DerivedColumn,
  type StoredRowText,
} from './access-log-row.js';
export { DEFAULT_DATABASE, parseConnectionOptions, type ConnectionOptions } from './connection-options.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { MAX_APPEND_BYTES, MAX_APPEND_ROWS, insertSettingsFor } from './query-settings.js';
export { MAX_LOOKUP_KEYS } from './merkle-rows.js';
// Defined in @phi-audit/ledger; re-exported for callers that import them from the store.
export {
  MAX_ACCESS_QUERY_LIMIT,
  type AccessRow,
  type AccessesByPatientQuery,
  type AccessesByUserQuery,
} from '@phi-audit/ledger';
export {
  ClickHouseLedgerStore,
  createClickHouseLedgerStore,
  type ClickHouseLedgerStoreOptions,
} from './clickhouse-ledger-store.js';
export {
  CLICKHOUSE_USERS_TEMPLATE_PATH,
  MIN_CLICKHOUSE_PASSWORD_LENGTH,
  renderClickHouseUsers,
  type ClickHouseUsersOptions,
} from './users-config.js';
export { sqlCatalog, type CatalogStatement } from './sql-catalog.js';
export {
  ClickHouseDetectionStore,
  createClickHouseDetectionStore,
  type ClickHouseDetectionStoreOptions,
} from './clickhouse-detection-store.js';
