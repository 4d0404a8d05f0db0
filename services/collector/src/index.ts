export { buildCollectorApp, type BuildCollectorAppOptions } from './app.js';
export { parseCollectorConfig, CollectorConfigError, type CollectorConfig } from './config.js';
export {
  COLLECTOR_ERRORS,
  CollectorError,
  MAX_ERROR_DETAILS,
  type CollectorErrorCode,
  type ErrorBody,
  type ErrorDetail,
} from './errors.js';
export {
  createIngestKey,
  createAuditorKey,
  roleOf,
  openIngestKeyStore,
  revokeIngestKey,
  listIngestKeys,
  DEFAULT_KEYS_FILE,
  type IngestKeyEntry,
  type IngestKeyStore,
  type IngestPrincipal,
  type KeyRole,
  type KeyStoreLogger,
} from './ingest-keys.js';
export { createCollectorLogger, collectorLoggerOptions, REDACT_PATHS } from './logger.js';
export { createCollectorMetrics, type CollectorMetrics } from './metrics.js';
export { main, type RunningCollector } from './main.js';
