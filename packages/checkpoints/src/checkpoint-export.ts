/**
 * Checkpoints leave the store: the latest signed checkpoint of each log is written to a
 * directory (and optionally POSTed to an HTTP endpoint), so cutting off a log's tail — or
 * deleting checkpoints from the store — is caught by `phi-audit verify --checkpoints DIR`.
 *
 * Directory layout: <dir>/<encodeURIComponent(origin)>.checkpoint holds the latest note of that
 * log, replaced atomically (write to a temporary file, fsync, rename, fsync the directory).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCheckpoint } from '@phi-audit/ledger';
import type { StoredCheckpoint } from '@phi-audit/ledger';
import { CheckpointError } from './errors.js';

const EXPORT_SUFFIX = '.checkpoint';
const TMP_SUFFIX = '.tmp';
const DEFAULT_POST_TIMEOUT_MS = 5_000;

/** File name of a log's exported checkpoint inside the export directory. */
export function exportFileName(origin: string): string {
  return `${encodeURIComponent(origin)}.checkpoint`;
}

function writeFailed(message: string, cause?: unknown): CheckpointError {
  return new CheckpointError('CHECKPOINT_WRITE_FAILED', message, cause === undefined ? undefined : { cause });
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/**
 * What an exported note states, read without verifying its signature: only used to refuse
 * replacing it with an older or forked checkpoint. Undefined when the note cannot be parsed.
 */
function statedCheckpoint(note: string): { origin: string; size: number; rootHex: string } | undefined {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return undefined;
  try {
    const checkpoint = parseCheckpoint(note.slice(0, split + 1));
    return { origin: checkpoint.origin, size: checkpoint.size, rootHex: checkpoint.root.toString('hex') };
  } catch {
    return undefined;
  }
}

// Writes of the same file are serialised in-process, so two checkpoints of one log signed close
// together cannot be renamed into place in the wrong order.
const pendingWrites = new Map<string, Promise<void>>();

/**
 * Writes `checkpoint.note` as the latest checkpoint of its log in `dir` (created 0700 if missing), atomically.
 *
 * The exported copy is the evidence that catches a truncated store, so it never goes backwards:
 * replacing a checkpoint of a larger size, of the same size with another root, of another
 * origin, or one that cannot be parsed rejects with CHECKPOINT_WRITE_FAILED and leaves the file
 * as it was. (Writing the same checkpoint again, e.g. re-signed after a key rotation, is fine.)
 */
export async function writeExportedCheckpoint(dir: string, checkpoint: StoredCheckpoint): Promise<void> {
  const target = join(dir, exportFileName(checkpoint.origin));
  const previous = pendingWrites.get(target) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(() => writeAtomically(dir, target, checkpoint));
  pendingWrites.set(target, current);
  try {
    await current;
  } finally {
    if (pendingWrites.get(target) === current) pendingWrites.delete(target);
  }
}

async function checkNoRegression(target: string, checkpoint: StoredCheckpoint): Promise<void> {
  let existing: string;
  try {
    existing = await readFile(target, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw writeFailed(`cannot read the exported checkpoint ${target}`, err);
  }
  const stated = statedCheckpoint(existing);
  if (stated === undefined) {
    throw writeFailed(`the exported checkpoint ${target} is not a checkpoint note; refusing to replace it`);
  }
  if (stated.origin !== checkpoint.origin) {
    throw writeFailed(`the exported checkpoint ${target} is of another log; refusing to replace it`);
  }
  if (stated.size > checkpoint.size) {
    throw writeFailed(
      `refusing to replace the exported checkpoint of ${checkpoint.origin} at size ${stated.size} with size ${checkpoint.size}`,
    );
  }
  if (stated.size === checkpoint.size && stated.rootHex !== checkpoint.rootHex.toLowerCase()) {
    throw writeFailed(
      `refusing to replace the exported checkpoint of ${checkpoint.origin} at size ${stated.size} with a different root`,
    );
  }
}

async function writeAtomically(dir: string, target: string, checkpoint: StoredCheckpoint): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw writeFailed(`cannot create the checkpoint export directory ${dir}`, err);
  }
  await checkNoRegression(target, checkpoint);
  // Same directory (rename is atomic only within one file system); the suffix keeps a
  // half-written file from ever being listed as a checkpoint.
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`;
  try {
    const file = await open(tmp, 'wx', 0o644);
    try {
      await file.writeFile(checkpoint.note, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw writeFailed(`cannot write the exported checkpoint of ${checkpoint.origin} to ${dir}`, err);
  }
  try {
    // Without this the rename itself may not survive a power loss.
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw writeFailed(`cannot sync the checkpoint export directory ${dir}`, err);
  }
}

/** The URL without credentials, query or fragment, for messages. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * POSTs the note (text/plain; charset=utf-8) to `url` with header `X-Phi-Audit-Log: <origin>`
 * and `Authorization: Bearer <token>` when a token is given; times out after `timeoutMs`
 * (default 5,000). Rejects with CHECKPOINT_WRITE_FAILED on a non-2xx answer or network error.
 *
 * Redirects are not followed (a 3xx answer fails): the note and token go only where configured.
 */
export async function postCheckpoint(
  url: string,
  checkpoint: StoredCheckpoint,
  options?: { token?: string | undefined; timeoutMs?: number },
): Promise<void> {
  const shown = displayUrl(url);
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'x-phi-audit-log': checkpoint.origin,
  };
  if (options?.token !== undefined && options.token !== '') headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: checkpoint.note,
      redirect: 'manual',
      signal: AbortSignal.timeout(options?.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    throw writeFailed(`checkpoint POST of ${checkpoint.origin} to ${shown} ${timedOut ? 'timed out' : 'failed'}`, err);
  }
  // The body is not needed; cancelling it frees the connection.
  await response.body?.cancel().catch(() => undefined);
  if (response.status < 200 || response.status > 299) {
    throw writeFailed(`checkpoint POST of ${checkpoint.origin} to ${shown} answered HTTP ${response.status}`);
  }
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
 *
 * Files are returned in name order. Temporary files of an interrupted write end in ".tmp" and
 * are never read. A file that cannot be read, or is not valid UTF-8, also rejects (naming it):
 * a damaged trusted checkpoint must not be skipped silently.
 */
export async function readExportedCheckpoints(dir: string): Promise<TrustedCheckpointNote[]> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((entry) => entry.name.endsWith(EXPORT_SUFFIX) && (entry.isFile() || entry.isSymbolicLink()))
      .map((entry) => entry.name)
      .sort();
  } catch (err) {
    throw new CheckpointError('CHECKPOINT_EXPORT_UNREADABLE', `cannot read the checkpoint directory ${dir}`, {
      cause: err,
    });
  }
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const notes: TrustedCheckpointNote[] = [];
  for (const name of names) {
    const source = join(dir, name);
    try {
      notes.push({ note: decoder.decode(await readFile(source)), source });
    } catch (err) {
      throw new CheckpointError('CHECKPOINT_EXPORT_UNREADABLE', `cannot read the exported checkpoint ${source}`, {
        cause: err,
      });
    }
  }
  return notes;
}
