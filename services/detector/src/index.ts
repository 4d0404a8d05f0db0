export {
  createDetectorHost,
  DEFAULT_DETECTOR_DEDUPE_WINDOW,
  DEFAULT_REFERENCE_POLL_MS,
  type DetectorHost,
  type DetectorHostOptions,
} from './detector-host.js';
export {
  checkPolicyFile,
  DEFAULT_POLICY_FILE,
  loadPolicyDir,
  policyFileName,
  type PolicyCheck,
  type PolicyDir,
  type PolicyDirOptions,
} from './policy-dir.js';
export { createReferenceCache, type ReferenceCache } from './reference-cache.js';
export { RecentEvents } from './recent-events.js';
export { createDetectorMetrics, type DetectorMetrics, type DetectorMetricsOptions } from './metrics.js';
export { MetricsServer, startMetricsServer, type MetricsServerOptions } from '@phi-audit/service-runtime';
export {
  createKafkaSource,
  DEFAULT_DETECTOR_GROUP_ID,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_REPLAY_HOURS,
  KafkaSource,
  type KafkaSourceOptions,
} from './kafka-source.js';
export {
  createLedgerTailSource,
  DEFAULT_TAIL_POLL_MS,
  LEDGER_TAIL_CURSOR,
  LedgerTailSource,
  type LedgerReader,
  type LedgerTailSourceOptions,
} from './ledger-tail-source.js';
export { startEmbeddedDetector, type EmbeddedDetector, type EmbeddedDetectorOptions } from './embedded-detector.js';
export { parseDetectorConfig, type DetectorConfig } from './config.js';
export { DETECTOR_ERROR_CODES, DetectorError, isDetectorError, type DetectorErrorCode } from './errors.js';
export { main } from './main.js';
