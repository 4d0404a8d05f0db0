/**
 * Signs checkpoints as logs grow: every `everyRecords` records or `intervalMs` milliseconds per
 * log (whichever comes first, and only when the log grew), stores each in the store's
 * `checkpoints` table, then exports it (directory, optional HTTP endpoint). Used by the
 * ledger-writer and by embedded mode's writer thread.
 */
import type { LedgerStore, NoteSigner, StoredCheckpoint } from '@phi-audit/ledger';

/** The subset of a pino logger the checkpointer uses. */
export interface CheckpointLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CheckpointPolicy {
  /** Sign when this many records were added since the log's last checkpoint. Default 10,000. */
  everyRecords: number;
  /** Sign when the log grew and its last checkpoint is older than this. Default 10,000 ms. */
  intervalMs: number;
}

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = Object.freeze({ everyRecords: 10_000, intervalMs: 10_000 });

export interface CheckpointExportOptions {
  /** Directory receiving the latest checkpoint of each log (writeExportedCheckpoint). */
  dir?: string | undefined;
  /** HTTP endpoint receiving each checkpoint (postCheckpoint). */
  url?: string | undefined;
  token?: string | undefined;
}

export interface CheckpointerOptions {
  signer: NoteSigner;
  store: Pick<LedgerStore, 'putCheckpoint' | 'latestCheckpoint'>;
  policy?: Partial<CheckpointPolicy>;
  exportTo?: CheckpointExportOptions;
  logger: CheckpointLogger;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

export interface Checkpointer {
  /**
   * Tells the checkpointer that `origin` now has `size` records, stored together with their
   * tiles, and Merkle root `root`. Signs, stores and exports a checkpoint now when `everyRecords`
   * records were added since the log's last checkpoint (loaded from the store the first time a
   * log is seen); otherwise remembers it for flushDue(). Resolves with the new checkpoint, if
   * any. A failure to store or export is logged and retried on the next call; it never throws.
   */
  appended(origin: string, size: number, root: Buffer): Promise<StoredCheckpoint | undefined>;
  /** Signs every remembered log whose last checkpoint is older than intervalMs (the timer calls this). */
  flushDue(): Promise<StoredCheckpoint[]>;
  /** Signs every remembered log that grew since its last checkpoint, regardless of time. */
  flushAll(): Promise<StoredCheckpoint[]>;
  /** Drops what is remembered of `origin` (its partition moved to another writer). */
  forget(origin: string): void;
  /** Starts the interval timer (unref'd). */
  start(): void;
  /** Stops the timer, then flushAll(); exports in flight finish first. */
  close(): Promise<void>;
}

export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  void options;
  throw new Error('not implemented');
}
