export {
  createEmbeddedLedger,
  DEFAULT_MAX_GROUP_EVENTS,
  type EmbeddedLedger,
  type EmbeddedLedgerOptions,
  type EmbeddedLedgerStats,
} from './embedded-ledger.js';
export {
  createGroupCommitter,
  type GroupCommitStore,
  type GroupCommitter,
  type RequestOutcome,
} from './group-commit.js';
export { createEmbeddedMetrics, type EmbeddedMetrics } from './embedded-metrics.js';
export { parseEmbeddedConfig, type EmbeddedConfig } from './config.js';
export { acquireDataDirLock, LOCK_FILE, type DataDirLock } from './data-dir-lock.js';
export { firstRunBanner, listeningLine } from './banner.js';
export { EMBEDDED_ERROR_CODES, EmbeddedError, isEmbeddedError, type EmbeddedErrorCode } from './errors.js';
export { createEmbeddedLogger, main, startEmbedded, type RunningEmbedded, type StartEmbeddedOptions } from './main.js';
