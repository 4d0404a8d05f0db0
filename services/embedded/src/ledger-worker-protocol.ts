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
}

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
  | { type: 'closed' };
