import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { z } from 'zod';
import { AccessEventSchema } from '@phi-audit/schema';

/** Where keys live when PHI_AUDIT_KEYS_FILE is not set (relative to the working directory). */
export const DEFAULT_KEYS_FILE = 'data/ingest-keys.json';

/** The file's layout. Secrets are never stored, only their SHA-256. */
const keyFields = {
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().optional(),
};
/** An ingest key: may only send events, for one tenant from one source system. `role` absent in older files. */
const IngestEntrySchema = z.strictObject({
  ...keyFields,
  role: z.literal('ingest').optional(),
  tenant: AccessEventSchema.shape.tenant,
  source: AccessEventSchema.shape.source.shape.system,
});
/**
 * An auditor key: may only read the ledger's verification API (log sizes, signed checkpoints,
 * proofs: hashes, never event contents), installation-wide; it cannot send events.
 */
const AuditorEntrySchema = z.strictObject({ ...keyFields, role: z.literal('auditor') });
const KeyEntrySchema = z.union([AuditorEntrySchema, IngestEntrySchema]);
const KeyFileSchema = z.strictObject({ version: z.literal(1), keys: z.array(KeyEntrySchema) });

export type IngestKeyEntry = z.infer<typeof KeyEntrySchema>;

/** What a key may do. */
export type KeyRole = 'ingest' | 'auditor';

/** The role of a key-file entry (entries written before roles existed are ingest keys). */
export function roleOf(entry: IngestKeyEntry): KeyRole {
  return entry.role === 'auditor' ? 'auditor' : 'ingest';
}

/** What a valid key grants: events for one tenant from one source system. */
export interface IngestPrincipal {
  keyId: string;
  tenant: string;
  source: string;
}

/** Authenticates ingest keys against the key file, reloading it when it changes. */
export interface IngestKeyStore {
  /**
   * The ingest key's principal, or undefined for a malformed, unknown, revoked or auditor key.
   * Constant-time in the secret.
   */
  authenticate(bearer: string): IngestPrincipal | undefined;
  /** The auditor key's id, or undefined for anything but an active auditor key. Constant-time in the secret. */
  authenticateAuditor(bearer: string): { keyId: string } | undefined;
  /** Number of active (unrevoked) keys currently loaded. */
  size(): number;
}

/** The subset of a pino logger the key store uses. */
export interface KeyStoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const KEY_PATTERN = /^phia_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/**
 * The secret is 32 random bytes, so a single SHA-256 is the right storage hash: a slow
 * password hash (scrypt, argon2) only helps against guessing low-entropy human secrets, and
 * 2^256 candidates cannot be guessed. Fast hashing also keeps per-request auth cheap.
 */
function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function validateScope(tenant: string, source: string): void {
  const t = AccessEventSchema.shape.tenant.safeParse(tenant);
  if (!t.success) throw new Error(`invalid tenant "${tenant}": ${t.error.issues[0]?.message ?? 'invalid'}`);
  const s = AccessEventSchema.shape.source.shape.system.safeParse(source);
  if (!s.success) throw new Error(`invalid source "${source}": ${s.error.issues[0]?.message ?? 'invalid'}`);
}

function parseKeyFile(text: string, file: string): IngestKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`ingest key file ${file} is not valid JSON`, { cause: error });
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`ingest key file ${file} is malformed at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`);
  }
  return parsed.data.keys;
}

async function readEntries(file: string): Promise<IngestKeyEntry[]> {
  try {
    return parseKeyFile(await readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Serialises writers across processes with an O_EXCL lock file next to the key file. */
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // A writer holds the lock for milliseconds; an old lock was left by a crashed process.
      if (age > 30_000) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`ingest key file ${file} is locked by another writer (${lock})`);
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/** Writes the whole file to a temp file (mode 0600), fsyncs it, and renames it into place. */
async function writeEntries(file: string, keys: IngestKeyEntry[]): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ version: 1, keys }, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** The scope part of a key entry: what the key may do. */
type KeyScope = { role: 'ingest'; tenant: string; source: string } | { role: 'auditor' };

/**
 * Makes a new random key with `scope`, appends its entry (the secret's SHA-256 only) to `file`
 * under the file lock, and returns the key, which is shown once and never stored.
 */
async function appendNewKey(file: string, scope: KeyScope): Promise<{ key: string; keyId: string }> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  await withFileLock(file, async () => {
    const keys = await readEntries(file);
    keys.push({
      keyId,
      ...scope,
      secretSha256: hashSecret(secret).toString('hex'),
      createdAt: new Date().toISOString(),
    });
    await writeEntries(file, keys);
  });
  return { key: `phia_${keyId}_${secret}`, keyId };
}

/**
 * Creates a key for (tenant, source), appends its hash to `file` atomically and returns the
 * key, which is shown once and never stored. Format: `phia_<keyId>_<secret>`.
 */
export async function createIngestKey(options: {
  file: string;
  tenant: string;
  source: string;
}): Promise<{ key: string; keyId: string }> {
  const { file, tenant, source } = options;
  validateScope(tenant, source);
  return appendNewKey(file, { role: 'ingest', tenant, source });
}

/**
 * Creates an auditor key (read access to the ledger verification API, no ingest), appends its
 * hash to `file` atomically and returns the key, shown once and never stored.
 */
export async function createAuditorKey(options: { file: string }): Promise<{ key: string; keyId: string }> {
  return appendNewKey(options.file, { role: 'auditor' });
}

/** Marks a key revoked; returns false when no such key exists. The collector stops accepting it within a second. */
export async function revokeIngestKey(options: { file: string; keyId: string }): Promise<boolean> {
  return withFileLock(options.file, async () => {
    const keys = await readEntries(options.file);
    const entry = keys.find((k) => k.keyId === options.keyId);
    if (!entry) return false;
    if (entry.revokedAt === undefined) {
      entry.revokedAt = new Date().toISOString();
      await writeEntries(options.file, keys);
    }
    return true;
  });
}

/** Lists the keys in `file` (hashes included, secrets never exist on disk). */
export async function listIngestKeys(options: { file: string }): Promise<IngestKeyEntry[]> {
  return readEntries(options.file);
}

/**
 * Opens the key file for authentication. A missing file is an empty store (keys can be created
 * while the collector runs); a malformed file at open throws. The file is re-checked (mtime,
 * size, inode) at most once per `checkIntervalMs`; a malformed file on reload is logged and the
 * last good keys stay in force.
 */
export function openIngestKeyStore(options: {
  file: string;
  logger: KeyStoreLogger;
  checkIntervalMs?: number;
}): IngestKeyStore {
  const { file, logger } = options;
  const checkIntervalMs = options.checkIntervalMs ?? 1_000;
  let byId = new Map<string, IngestKeyEntry>();
  let signature = '';
  let lastCheck = 0;
  // Compared against when the keyId is unknown so both paths cost a hash and a comparison.
  const dummyHash = hashSecret(randomBytes(32).toString('base64url'));

  const load = (initial: boolean): void => {
    let sig: string;
    try {
      const s = statSync(file);
      sig = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      sig = 'missing';
    }
    if (sig === signature) return;
    if (sig === 'missing') {
      if (initial) logger.warn({ file }, 'ingest key file does not exist yet; no key is accepted until one is created');
      else logger.warn({ file }, 'ingest key file disappeared; no key is accepted');
      byId = new Map();
      signature = sig;
      return;
    }
    const entries = parseKeyFile(readFileSync(file, 'utf8'), file);
    byId = new Map(entries.filter((e) => e.revokedAt === undefined).map((e) => [e.keyId, e]));
    signature = sig;
    if (!initial) logger.info({ file, keys: byId.size }, 'ingest key file reloaded');
  };

  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  load(true);
  lastCheck = Date.now();

  /** The active entry the bearer proves possession of, or undefined. Same cost on every path. */
  const entryFor = (bearer: string): IngestKeyEntry | undefined => {
    const now = Date.now();
    if (now - lastCheck >= checkIntervalMs) {
      lastCheck = now;
      try {
        load(false);
      } catch (error) {
        logger.error(
          { file, err: { message: (error as Error).message } },
          'ingest key file could not be reloaded; keeping the previous keys',
        );
      }
    }
    const m = KEY_PATTERN.exec(bearer);
    if (!m) return undefined;
    const entry = byId.get(m[1]!);
    const presented = hashSecret(m[2]!);
    const expected = entry ? Buffer.from(entry.secretSha256, 'hex') : dummyHash;
    const match = timingSafeEqual(presented, expected);
    return entry && match ? entry : undefined;
  };

  return {
    authenticate(bearer) {
      const entry = entryFor(bearer);
      return entry !== undefined && entry.role !== 'auditor'
        ? { keyId: entry.keyId, tenant: entry.tenant, source: entry.source }
        : undefined;
    },
    authenticateAuditor(bearer) {
      const entry = entryFor(bearer);
      return entry?.role === 'auditor' ? { keyId: entry.keyId } : undefined;
    },
    size() {
      return byId.size;
    },
  };
}
