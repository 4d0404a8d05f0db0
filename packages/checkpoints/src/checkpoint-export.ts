/**
 * Checkpoints leave the store: the latest signed checkpoint of each log is written to a
 * directory (and optionally POSTed to an HTTP endpoint), so cutting off a log's tail — or
 * deleting checkpoints from the store — is caught by `phi-audit verify --checkpoints DIR`.
 *
 * Directory layout: <dir>/<encodeURIComponent(origin)>.checkpoint holds the latest note of that
 * log, replaced atomically (write to a temporary file, fsync, rename, fsync the directory).
 */
import type { StoredCheckpoint } from '@phi-audit/ledger';

/** File name of a log's exported checkpoint inside the export directory. */
export function exportFileName(origin: string): string {
  return `${encodeURIComponent(origin)}.checkpoint`;
}

/** Writes `checkpoint.note` as the latest checkpoint of its log in `dir` (created 0700 if missing), atomically. */
export async function writeExportedCheckpoint(dir: string, checkpoint: StoredCheckpoint): Promise<void> {
  void dir;
  void checkpoint;
  throw new Error('not implemented');
}

/**
 * POSTs the note (text/plain; charset=utf-8) to `url` with header `X-Phi-Audit-Log: <origin>`
 * and `Authorization: Bearer <token>` when a token is given; times out after `timeoutMs`
 * (default 5,000). Rejects with CHECKPOINT_WRITE_FAILED on a non-2xx answer or network error.
 */
export async function postCheckpoint(
  url: string,
  checkpoint: StoredCheckpoint,
  options?: { token?: string | undefined; timeoutMs?: number },
): Promise<void> {
  void url;
  void checkpoint;
  void options;
  throw new Error('not implemented');
}

/** One checkpoint note read from an export directory or a --trusted file, with where it came from. */
export interface TrustedCheckpointNote {
  note: string;
  /** The file it was read from (for messages). */
  source: string;
}

/**
 * Reads every `*.checkpoint` file of an export directory. Rejects with
 * CHECKPOINT_EXPORT_UNREADABLE when the directory cannot be read.
 */
export async function readExportedCheckpoints(dir: string): Promise<TrustedCheckpointNote[]> {
  void dir;
  throw new Error('not implemented');
}
