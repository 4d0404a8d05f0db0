import type { RequestOutcome } from './group-commit.js';
import type { PreparedEvent } from './prepared-event.js';

/**
 * Messages between the embedded ledger (main thread) and its writer thread, which owns the
 * SQLite write connection. Plain data only: they cross a structured clone.
 */

/** What the writer thread is started with (`workerData`). */
export interface LedgerWorkerData {
  /** The ledger database file. */
  file: string;
  /** SQLite max_page_count for the write connection. */
  maxPageCount?: number;
  /** Merkle tiles and signed checkpoints; absent only when a benchmark measures their cost. */
  checkpoints?: WorkerCheckpointSettings;
}

/**
 * What the writer thread signs and exports checkpoints with. The signer key text lives only in
 * memory (this clone and the thread's signer); it is never logged.
 */
export interface WorkerCheckpointSettings {
  signerKey: string;
  everyRecords: number;
  intervalMs: number;
  exportDir?: string;
  exportUrl?: string;
  exportToken?: string;
}

/** Levels the writer thread logs at; its entries go through the main thread's logger. */
export type WorkerLogLevel = 'info' | 'warn' | 'error';

/** Main → writer. */
export type ToLedgerWorker =
  /** Commit these requests (each its prepared events) in one transaction. */
  | { type: 'commit'; id: number; requests: PreparedEvent[][] }
  /** Close the write connection and end the thread. */
  | { type: 'close' };

/** Writer → main. */
export type FromLedgerWorker =
  | { type: 'committed'; id: number; outcomes: RequestOutcome[]; records: number; duplicates: number }
  /** The transaction failed: nothing of the group was stored. `code` is the StoreError code, if any. */
  | { type: 'failed'; id: number; code: string | undefined; message: string }
  /** A log entry of the writer thread (checkpointer, tile loading). */
  | { type: 'log'; level: WorkerLogLevel; obj: object; msg: string }
  | { type: 'closed' };
