/**
 * Where the checkpoint signing key comes from: a file or the environment, never the database.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { generateNoteKey, isLedgerError, parseSignerKey, parseVerifierKey } from '@phi-audit/ledger';
import type { NoteSigner, NoteVerifier } from '@phi-audit/ledger';
import { CheckpointError } from './errors.js';

function unavailable(message: string, cause?: unknown): CheckpointError {
  return new CheckpointError('CHECKPOINT_KEY_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/**
 * Reads a secret file through one file descriptor, so the permission check and the read see the
 * same file (no swap in between). Refuses non-regular files and modes readable or writable by
 * group or others.
 */
function readPrivateFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = errnoOf(err);
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ELOOP' ? 'is a symbolic link' : 'cannot be opened';
    throw unavailable(`signing key file ${file} ${why}`, err);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw unavailable(`signing key file ${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw unavailable(
        `signing key file ${file} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function parseSigner(text: string, where: string): NoteSigner {
  try {
    return parseSignerKey(text);
  } catch (err) {
    // LEDGER_KEY_INVALID messages never contain key material, so keeping the cause is safe.
    if (isLedgerError(err)) throw unavailable(`${where} is not a valid signer key: ${err.message}`, err);
    throw err;
  }
}

/**
 * Loads the signer from `key` (signer key text, e.g. $CHECKPOINT_SIGNING_KEY) or `file`
 * (a file holding it, e.g. $CHECKPOINT_SIGNING_KEY_FILE); exactly one must be given. Refuses a
 * key file readable by group or others (mode & 0o077) with CHECKPOINT_KEY_UNAVAILABLE; the
 * message names the file, never its contents.
 *
 * An empty string counts as not given (an environment variable set to "" in a compose file).
 */
export function loadSigningKey(options: { key?: string | undefined; file?: string | undefined }): NoteSigner {
  const key = options.key === '' ? undefined : options.key;
  const file = options.file === '' ? undefined : options.file;
  if (key !== undefined && file !== undefined) {
    throw unavailable('both a signing key and a signing key file are configured; give exactly one');
  }
  if (key !== undefined) return parseSigner(key, 'the configured signing key');
  if (file !== undefined) return parseSigner(readPrivateFile(file), `signing key file ${file}`);
  throw unavailable('no checkpoint signing key is configured (neither a key nor a key file)');
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `content` to a new file that must not exist yet, with `mode`, durably. */
function writeNewFile(file: string, content: string, mode: number): void {
  // 'wx' = O_CREAT | O_EXCL: never overwrite, and two processes cannot both create the key.
  const fd = openSync(file, 'wx', mode);
  try {
    fchmodSync(fd, mode); // the umask may have removed bits we want (never added any)
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` atomically (temporary file in the same directory, fsync, rename). */
function replaceFile(file: string, content: string, mode: number): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeNewFile(tmp, content, mode);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates a new signing key named `name`: writes the signer key to `file` (mode 0600, refusing
 * to overwrite an existing file) and the verifier key to `file + '.pub'` (mode 0644).
 * Returns the verifier key text.
 *
 * A missing parent directory is created with mode 0700. Throws CHECKPOINT_KEY_UNAVAILABLE for
 * an invalid key name, an existing key file or a write error.
 */
export function createSigningKeyFile(options: { name: string; file: string }): {
  verifierKey: string;
  publicFile: string;
} {
  const { name, file } = options;
  let keys: { signerKey: string; verifierKey: string };
  try {
    keys = generateNoteKey(name);
  } catch (err) {
    if (isLedgerError(err)) throw unavailable(`cannot create a signing key: ${err.message}`, err);
    throw err;
  }
  const dir = dirname(file);
  const publicFile = `${file}.pub`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeNewFile(file, `${keys.signerKey}\n`, 0o600);
    replaceFile(publicFile, `${keys.verifierKey}\n`, 0o644);
    fsyncDirectory(dir);
  } catch (err) {
    const why = errnoOf(err) === 'EEXIST' ? 'already exists' : 'cannot be written';
    throw unavailable(`signing key file ${file} ${why}`, err);
  }
  return { verifierKey: keys.verifierKey, publicFile };
}

/**
 * Loads the signing key from `file`, creating it first (createSigningKeyFile with `name`) when
 * it does not exist — embedded mode's first run.
 *
 * An existing file is used as it is, whatever key name it holds (renaming a key would change
 * its key ID and strand existing checkpoints).
 */
export function loadOrCreateSigningKey(options: { name: string; file: string }): {
  signer: NoteSigner;
  created: boolean;
} {
  try {
    createSigningKeyFile(options);
    return { signer: loadSigningKey({ file: options.file }), created: true };
  } catch (err) {
    // Creating first and falling back on EEXIST leaves no window in which two processes both
    // decide the key is missing and one overwrites the other's.
    const exists = err instanceof CheckpointError && errnoOf(err.cause) === 'EEXIST';
    if (!exists) throw err;
  }
  return { signer: loadSigningKey({ file: options.file }), created: false };
}

const SHOWN_ENTRY_CHARS = 80;

function describeEntry(entry: string): string {
  const shown = entry.length > SHOWN_ENTRY_CHARS ? `${entry.slice(0, SHOWN_ENTRY_CHARS)}…` : entry;
  return JSON.stringify(shown);
}

function looksPrivate(text: string): boolean {
  return text.trim().startsWith('PRIVATE+KEY');
}

/**
 * Parses trusted verifier keys: each entry is either a verifier key text or the path of a file
 * holding one key per line (blank lines and lines starting with # ignored). Throws
 * CHECKPOINT_KEY_UNAVAILABLE naming the entry that is neither.
 *
 * The same key given twice is kept once. A signer (private) key given by mistake is refused
 * without being echoed.
 */
export function loadVerifierKeys(entries: readonly string[]): NoteVerifier[] {
  const verifiers = new Map<string, NoteVerifier>();
  entries.forEach((entry, position) => {
    if (looksPrivate(entry)) {
      throw unavailable(`trusted key entry ${position + 1} is a signer (private) key, not a verifier key`);
    }
    let keyError: unknown;
    try {
      const verifier = parseVerifierKey(entry);
      verifiers.set(verifier.key, verifier);
      return;
    } catch (err) {
      if (!isLedgerError(err)) throw err;
      keyError = err;
    }
    let content: string;
    try {
      content = readFileSync(entry, 'utf8');
    } catch (err) {
      const reason = keyError instanceof Error ? keyError.message : 'not a verifier key';
      throw unavailable(
        `trusted key entry ${describeEntry(entry)} is neither a verifier key (${reason}) nor a readable file`,
        err,
      );
    }
    content.split('\n').forEach((rawLine, i) => {
      const line = rawLine.trim();
      if (line === '' || line.startsWith('#')) return;
      if (looksPrivate(line)) {
        throw unavailable(`trusted key file ${entry} line ${i + 1} holds a signer (private) key, not a verifier key`);
      }
      try {
        const verifier = parseVerifierKey(line);
        verifiers.set(verifier.key, verifier);
      } catch (err) {
        if (isLedgerError(err)) throw unavailable(`trusted key file ${entry} line ${i + 1}: ${err.message}`, err);
        throw err;
      }
    });
  });
  return [...verifiers.values()];
}
