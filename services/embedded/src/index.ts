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
  type LoadTiles,
  type LogGrowth,
  type GroupCommitter,
  type RequestOutcome,
} from './group-commit.js';
export { createEmbeddedMetrics, type EmbeddedMetrics } from './embedded-metrics.js';
export {
  DEFAULT_CHECKPOINT_EXPORT_DIR,
  DEFAULT_SIGNING_KEY_FILE,
  defaultSigningKeyName,
  parseEmbeddedConfig,
  type CheckpointSettings,
  type EmbeddedConfig,
  type SigningKeySource,
} from './config.js';
export { acquireDataDirLock, LOCK_FILE, type DataDirLock } from './data-dir-lock.js';
export { firstRunBanner, listeningLine, signingKeyCreatedNotice, type CheckpointSetup } from './banner.js';
export type { WorkerCheckpointSettings } from './ledger-worker-protocol.js';
export { EMBEDDED_ERROR_CODES, EmbeddedError, isEmbeddedError, type EmbeddedErrorCode } from './errors.js';
export { createEmbeddedLogger, main, startEmbedded, type RunningEmbedded, type StartEmbeddedOptions } from './main.js';
