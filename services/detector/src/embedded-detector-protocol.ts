/**
 * Messages between the embedded detector (main thread) and its thread, which owns its own
 * SQLite connections (the ledger read-only, the detection database read-write). Plain data only.
 */
import type { DetectorMetricsSnapshot } from './embedded-detector-metrics.js';

/** What the detector thread is started with (`workerData`). */
export interface EmbeddedDetectorData {
  ledgerFile: string;
  detectionFile: string;
  /** `<data dir>/policies`; a missing directory means DEFAULT_POLICY for every tenant. */
  policyDir: string;
  pollMs?: number;
  replayMs?: number;
  referencePollMs?: number;
}

export type DetectorLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Main → detector thread. `collect` asks for a `metrics` message now (a /metrics scrape). */
export type ToDetectorThread = { type: 'close' } | { type: 'collect' };

/** Detector thread → main. */
export type FromDetectorThread =
  | { type: 'started' }
  /** Start failed (a bad policy file, say): `message` is safe to show. */
  | { type: 'failed'; code: string | undefined; message: string }
  | { type: 'log'; level: DetectorLogLevel; obj: object; msg: string }
  /** The thread's detector metrics: every second, on `collect`, and once more after the final flush. */
  | { type: 'metrics'; metrics: DetectorMetricsSnapshot }
  | { type: 'closed' };
