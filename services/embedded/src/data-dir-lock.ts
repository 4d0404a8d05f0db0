import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedError } from './errors.js';

/** The lock file's name inside the data directory; it holds the owner's pid. */
export const LOCK_FILE = 'phi-audit.lock';

/** A held data-directory lock. */
export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Lock files this process holds: our own pid in a lock file is stale only when we do not hold it. */
const held = new Set<string>();

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** The pid recorded in the lock file, or undefined when it is gone or unreadable. */
function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errno(error) === 'EPERM';
  }
}

/** Creates `file` holding our pid atomically: the content is written first, then hard-linked into place (fails with EEXIST). */
function tryCreate(file: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes a stale lock, serialised by a second O_EXCL file so two starting processes cannot
 * both take it over. A takeover file older than 10 s was left by a process killed mid-takeover.
 */
function removeStale(file: string, stalePid: number | undefined): void {
  const takeover = `${file}.takeover`;
  let fd: number;
  try {
    fd = openSync(takeover, 'wx', 0o600);
  } catch (error) {
    if (errno(error) !== 'EEXIST') throw error;
    const age = Date.now() - (statSync(takeover, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 10_000) rmSync(takeover, { force: true });
    // Another process is taking over right now; give it a moment (startup only, so blocking is fine).
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    return;
  }
  try {
    if (holderOf(file) === stalePid) rmSync(file, { force: true });
  } finally {
    closeSync(fd);
    rmSync(takeover, { force: true });
  }
}

/**
 * Takes the data directory's lock so that one process at a time owns the ledger. A lock whose
 * pid is not alive (left by a `kill -9`) — or is our own pid, reused after a container restart —
 * is taken over. Throws EMBEDDED_DATA_DIR_LOCKED naming the directory and the owner's pid.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  if (held.has(file)) {
    throw new EmbeddedError(
      'EMBEDDED_DATA_DIR_LOCKED',
      `the data directory ${dataDir} is already in use by this process (pid ${process.pid})`,
    );
  }
  for (let attempt = 0; attempt < 20; attempt += 1) {
    let created: boolean;
    try {
      created = tryCreate(file);
    } catch (error) {
      throw new EmbeddedError('EMBEDDED_DATA_DIR_UNUSABLE', `cannot create the lock file ${file}: ${errno(error)}`, {
        cause: error,
      });
    }
    if (created) {
      held.add(file);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          held.delete(file);
          if (holderOf(file) === process.pid) rmSync(file, { force: true });
        },
      };
    }
    const holder = holderOf(file);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new EmbeddedError(
        'EMBEDDED_DATA_DIR_LOCKED',
        `the data directory ${dataDir} is in use by another phi-audit process (pid ${holder}); ` +
          `stop that process first, or set PHI_AUDIT_DATA_DIR to another directory ` +
          `(if no such process exists, delete ${file})`,
      );
    }
    removeStale(file, holder);
  }
  throw new EmbeddedError('EMBEDDED_DATA_DIR_LOCKED', `could not take the lock ${file} of ${dataDir}; retry`);
}
