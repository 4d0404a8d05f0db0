/**
 * Messages between the embedded detector (main thread) and its thread, which owns its own
 * SQLite connections (the ledger read-only, the detection database read-write). Plain data only.
 */

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

/** Main → detector thread. */
export type ToDetectorThread = { type: 'close' };

/** Detector thread → main. */
export type FromDetectorThread =
  | { type: 'started' }
  /** Start failed (a bad policy file, say): `message` is safe to show. */
  | { type: 'failed'; code: string | undefined; message: string }
  | { type: 'log'; level: DetectorLogLevel; obj: object; msg: string }
  | { type: 'closed' };
