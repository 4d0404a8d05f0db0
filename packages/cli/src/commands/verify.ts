import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadVerifierKeys, readExportedCheckpoints, type TrustedCheckpointNote } from '@phi-audit/checkpoints';
import {
  unverifiedCheckpointOf,
  verifyLog,
  type CheckpointToVerify,
  type LogHead,
  type LogVerification,
  type NoteVerifier,
  type VerifiableStore,
  type VerifyFailure,
} from '@phi-audit/ledger';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { createSqliteLedgerStore, LEDGER_FILE, ledgerFileIn } from '@phi-audit/store-sqlite';
import { verifierKeyEntriesFromEnv } from './verifier-keys.js';

/** Exit codes of `phi-audit verify`. */
export const VERIFY_EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** Where a store checkpoint came from, as messages name it. */
const STORE_SOURCE = 'in the store';

export interface RunVerifyOptions {
  store: VerifiableStore;
  /** Where result lines (and, on a TTY, progress bars) go. */
  out: NodeJS.WritableStream;
  /** Where error messages go; default `out`. */
  err?: NodeJS.WritableStream;
  /** Show a progress bar per log. */
  isTTY: boolean;
  /** Logs to verify; default every log the store or a trusted checkpoint names. */
  origins?: string[];
  /** Trusted checkpoint verifier keys. Required when the store or `trusted` holds checkpoints. */
  verifiers?: readonly NoteVerifier[];
  /** Checkpoints kept outside the store (export directory, auditor's --trusted files). */
  trusted?: readonly TrustedCheckpointNote[];
}

/** A store error's system code (ECONNREFUSED, ETIMEDOUT, …) from its cause chain: useful, and never PHI. */
function systemCodeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = systemCodeOf(err);
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/** The scan ended before the store's own head: rows the store counts were never returned. */
function shortScan(v: LogVerification, head: LogHead | undefined): VerifyFailure | undefined {
  if (head === undefined || !v.ok || v.head.size >= head.size) return undefined;
  const i = v.head.size;
  return {
    index: i,
    kind: 'index_gap',
    message: `records ${i} to ${head.size - 1} are missing: the store reports ${head.size} records but the scan ended after ${i}`,
  };
}

/** "3 checkpoints (latest size 300)" for the result line, or '' when checkpoints are not checked. */
function checkpointSummary(v: LogVerification): string {
  if (v.checkpoints === undefined) return '';
  const { checked, latestSize } = v.checkpoints;
  if (checked === 0) return '  no signed checkpoint yet';
  return `  ${checked} ${checked === 1 ? 'checkpoint' : 'checkpoints'} (latest size ${latestSize ?? 0})`;
}

/** Notes about the stored tiles that are worth knowing but are not failures. */
function tileNotes(v: LogVerification): string[] {
  const t = v.tiles;
  if (t === undefined) return [];
  const notes: string[] = [];
  if (t.missing > 0) notes.push(`${t.missing} Merkle ${t.missing === 1 ? 'tile is' : 'tiles are'} missing`);
  if (t.lagging > 0) notes.push(`${t.lagging} ${t.lagging === 1 ? 'tile lags' : 'tiles lag'} the records`);
  if (t.proofsUnavailable > 0) {
    notes.push(
      `${t.proofsUnavailable} consistency ${t.proofsUnavailable === 1 ? 'proof' : 'proofs'} could not be built from tiles`,
    );
  }
  return notes.length === 0
    ? []
    : [
        `  note: ${notes.join('; ')} (proofs for those ranges are unavailable; records and checkpoints were still checked)`,
      ];
}

interface LogToVerify {
  origin: string;
  /** The store's head, when the store has rows of this log. */
  head: LogHead | undefined;
  checkpoints: CheckpointToVerify[];
}

async function verifyOne(
  store: VerifiableStore,
  log: LogToVerify,
  verifiers: readonly NoteVerifier[] | undefined,
  out: NodeJS.WritableStream,
  isTTY: boolean,
): Promise<{ failure: VerifyFailure | undefined; records: number }> {
  const { origin, head } = log;
  const bar =
    isTTY && head !== undefined
      ? new SingleBar({
          stream: out,
          format: `${origin} [{bar}] {percentage}% | {value}/{total} records | ETA {eta_formatted}`,
          clearOnComplete: true,
          hideCursor: true,
        })
      : undefined;
  bar?.start(head?.size ?? 0, 0);
  let v: LogVerification;
  try {
    v = await verifyLog({
      origin,
      records: store.scan(origin),
      ...(verifiers !== undefined ? { checkpoints: log.checkpoints, verifiers } : {}),
      readTiles: (ids) => store.readTiles(origin, ids),
      ...(bar ? { onProgress: (n: number) => bar.update(Math.min(n, head?.size ?? n)) } : {}),
    });
  } finally {
    bar?.stop();
  }
  const failure = v.failure ?? shortScan(v, head);
  const records = Math.max(head?.size ?? 0, v.head.size);
  const checkpoints = checkpointSummary(v);
  if (failure === undefined) {
    out.write(`${origin}  ${records} records${checkpoints}  OK\n`);
  } else {
    out.write(
      `${origin}  ${records} records${checkpoints}  FAILED at index ${failure.index}: ${failure.kind}: ${failure.message}\n`,
    );
  }
  for (const note of tileNotes(v)) out.write(`${note}\n`);
  return { failure, records };
}

const byOrigin = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Verifies every log (or the given `origins`) from genesis: records, Merkle tree, tiles and
 * signed checkpoints (the store's and the trusted ones). The logs are the union of the store's
 * heads, the logs the store holds checkpoints for and the logs trusted checkpoints name — a
 * log whose rows were all deleted still fails. One line per log and a summary line. Returns
 * the exit code: 0 when every log verifies, 1 when any fails, 2 when the store cannot be read,
 * a requested log does not exist, or checkpoints exist but no verifier key was given.
 */
export async function runVerify(options: RunVerifyOptions): Promise<number> {
  const { store, out, isTTY, verifiers } = options;
  const err = options.err ?? out;
  const trusted = options.trusted ?? [];
  try {
    const heads = new Map((await store.heads()).map((h) => [h.origin, h]));
    const checkpointed = await store.checkpointedLogs();
    const checkpointedSet = new Set(checkpointed);
    // A trusted note whose body does not parse names no log: it is checked against every log.
    const trustedByOrigin = new Map<string, CheckpointToVerify[]>();
    const unplaced: CheckpointToVerify[] = [];
    for (const t of trusted) {
      const entry = { note: t.note, source: t.source };
      const origin = unverifiedCheckpointOf(t.note)?.origin;
      if (origin === undefined) unplaced.push(entry);
      else trustedByOrigin.set(origin, [...(trustedByOrigin.get(origin) ?? []), entry]);
    }
    const known = new Set([...heads.keys(), ...checkpointed, ...trustedByOrigin.keys()]);
    let origins = [...known].sort(byOrigin);
    if (options.origins !== undefined && options.origins.length > 0) {
      const unknown = options.origins.filter((o) => !known.has(o));
      if (unknown.length > 0) {
        const list = origins.slice(0, 10).join(', ');
        err.write(
          `error: no log named ${unknown.map((o) => `"${o}"`).join(', ')} in the store (logs: ${list || 'none'}${origins.length > 10 ? ', …' : ''})\n`,
        );
        return VERIFY_EXIT.error;
      }
      origins = [...new Set(options.origins)];
    }
    if ((checkpointed.length > 0 || trusted.length > 0) && (verifiers === undefined || verifiers.length === 0)) {
      err.write(
        `error: ${checkpointed.length > 0 ? 'the store holds signed checkpoints' : 'trusted checkpoints were given'} but no verifier key is available to check them: ` +
          'pass --key <verifier key or file> (or set $PHI_AUDIT_VERIFIER_KEYS); `phi-audit signing-key create` prints the key when it is made\n',
      );
      return VERIFY_EXIT.error;
    }
    if (origins.length === 0) {
      out.write('no logs in the store: nothing to verify\n');
      return VERIFY_EXIT.ok;
    }
    let failed = 0;
    let records = 0;
    for (const origin of origins) {
      const stored: CheckpointToVerify[] = checkpointedSet.has(origin)
        ? (await store.checkpoints(origin)).map((c) => ({
            note: c.note,
            source: STORE_SOURCE,
            stored: { size: c.size, rootHex: c.rootHex },
          }))
        : [];
      const log: LogToVerify = {
        origin,
        head: heads.get(origin),
        checkpoints: [...stored, ...(trustedByOrigin.get(origin) ?? []), ...unplaced],
      };
      const result = await verifyOne(
        store,
        log,
        verifiers !== undefined && verifiers.length > 0 ? verifiers : undefined,
        out,
        isTTY,
      );
      if (result.failure !== undefined) failed += 1;
      records += result.records;
    }
    const logs = `${origins.length} ${origins.length === 1 ? 'log' : 'logs'}`;
    out.write(
      failed === 0
        ? `verified ${logs}, ${records} records: all OK\n`
        : `verified ${logs}: ${origins.length - failed} OK, ${failed} FAILED\n`,
    );
    return failed === 0 ? VERIFY_EXIT.ok : VERIFY_EXIT.failed;
  } catch (e) {
    err.write(`error: cannot read the ledger: ${describeError(e)}\n`);
    return VERIFY_EXIT.error;
  }
}

/** Where `phi-audit verify` reads the ledger from, or why it cannot tell. */
export type VerifyTarget =
  | { kind: 'data'; dir: string; file: string; reason: string }
  | { kind: 'clickhouse'; url: string; reason: string }
  | { kind: 'usage'; message: string };

export interface VerifyTargetInput {
  /** --data as given on the command line. */
  data?: string | undefined;
  /** --clickhouse as given on the command line. */
  clickhouse?: string | undefined;
  /** --database as given on the command line (ClickHouse only). */
  database?: string | undefined;
  env: { PHI_AUDIT_DATA_DIR?: string | undefined; CLICKHOUSE_URL?: string | undefined };
  /** Whether a file exists (the default embedded ledger ./data/ledger.sqlite). */
  exists: (path: string) => boolean;
}

/**
 * Picks the ledger to verify: --data <dir> or --clickhouse <url> (never both); with
 * neither, $PHI_AUDIT_DATA_DIR, then ./data when it holds a ledger, then $CLICKHOUSE_URL.
 * Pure: the caller passes the environment and a file-exists check.
 */
export function resolveVerifyTarget(input: VerifyTargetInput): VerifyTarget {
  const data = (dir: string, reason: string): VerifyTarget => ({ kind: 'data', dir, file: ledgerFileIn(dir), reason });
  const neither =
    'no ledger to verify: pass --data <dir> (embedded mode; default $PHI_AUDIT_DATA_DIR, or ./data when it holds ' +
    `${LEDGER_FILE}) or --clickhouse <url> (cluster mode; default $CLICKHOUSE_URL)`;
  if (input.data !== undefined && input.clickhouse !== undefined) {
    return { kind: 'usage', message: 'use either --data <dir> or --clickhouse <url>, not both' };
  }
  if (input.data !== undefined && input.database !== undefined) {
    return { kind: 'usage', message: '--database applies to --clickhouse only, not to --data' };
  }
  if (input.data !== undefined)
    return input.data === '' ? { kind: 'usage', message: neither } : data(input.data, '--data');
  if (input.clickhouse !== undefined) {
    return input.clickhouse === ''
      ? { kind: 'usage', message: neither }
      : { kind: 'clickhouse', url: input.clickhouse, reason: '--clickhouse' };
  }
  const { PHI_AUDIT_DATA_DIR: envDir, CLICKHOUSE_URL: envUrl } = input.env;
  if (envDir) return data(envDir, '$PHI_AUDIT_DATA_DIR');
  if (input.exists(ledgerFileIn('data'))) return data('data', './data');
  if (envUrl) return { kind: 'clickhouse', url: envUrl, reason: '$CLICKHOUSE_URL' };
  return { kind: 'usage', message: neither };
}

export interface VerifyCommandOptions {
  data?: string;
  clickhouse?: string;
  database?: string;
  log?: string[];
  /** --key entries: verifier key texts or files of them. */
  key?: string[];
  /** --trusted files: checkpoint notes saved by an auditor. */
  trusted?: string[];
  /** --checkpoints: an export directory. */
  checkpoints?: string;
}

/** The embedded data directory's verifier key file, next to the signing key. */
export const DATA_VERIFIER_KEY_FILE = 'checkpoint-signing.key.pub';
/** The embedded data directory's checkpoint export directory. */
export const DATA_CHECKPOINT_DIR = 'checkpoints';

/** What verify trusts, and where each part came from (for the operator's stderr notes). */
export interface VerifyTrustInputs {
  keyEntries: string[];
  trustedFiles: string[];
  exportDir: string | undefined;
  notes: string[];
}

/**
 * Picks the trust inputs: --key entries (default: $PHI_AUDIT_VERIFIER_KEYS, separated by commas or newlines,
 * plus for an embedded ledger `<data>/checkpoint-signing.key.pub` when present), --trusted
 * files, and the export directory (--checkpoints; default `<data>/checkpoints` or
 * $CHECKPOINT_EXPORT_DIR). Pure: the caller passes the environment and a file-exists check.
 */
export function resolveTrustInputs(
  options: Pick<VerifyCommandOptions, 'key' | 'trusted' | 'checkpoints'>,
  target: Exclude<VerifyTarget, { kind: 'usage' }>,
  env: { PHI_AUDIT_VERIFIER_KEYS?: string | undefined; CHECKPOINT_EXPORT_DIR?: string | undefined },
  exists: (path: string) => boolean,
): VerifyTrustInputs {
  const notes: string[] = [];
  let keyEntries = options.key ?? [];
  if (keyEntries.length === 0) {
    keyEntries = verifierKeyEntriesFromEnv(env.PHI_AUDIT_VERIFIER_KEYS);
    if (target.kind === 'data' && exists(join(target.dir, DATA_VERIFIER_KEY_FILE))) {
      const file = join(target.dir, DATA_VERIFIER_KEY_FILE);
      keyEntries.push(file);
      notes.push(
        `trusting the verifier key in ${file}: whoever can write the data directory can replace it; pass --key with a copy kept elsewhere for an independent check`,
      );
    }
  }
  let exportDir = options.checkpoints;
  if (exportDir === undefined) {
    if (target.kind === 'data') {
      const dir = join(target.dir, DATA_CHECKPOINT_DIR);
      if (exists(dir)) exportDir = dir;
    } else if (env.CHECKPOINT_EXPORT_DIR) {
      exportDir = env.CHECKPOINT_EXPORT_DIR;
    }
  }
  return { keyEntries, trustedFiles: options.trusted ?? [], exportDir, notes };
}

/** Reads --trusted files; rejects naming the file that cannot be read. */
function readTrustedFiles(files: readonly string[]): TrustedCheckpointNote[] {
  return files.map((file) => {
    try {
      return { note: readFileSync(file, 'utf8'), source: file };
    } catch (e) {
      throw new Error(`cannot read the trusted checkpoint ${file}: ${describeError(e)}`, { cause: e });
    }
  });
}

/**
 * The whole `phi-audit verify` command: picks the ledger (resolveVerifyTarget) and what to
 * trust (resolveTrustInputs), opens the store (SQLite read-only; ClickHouse with
 * $CLICKHOUSE_DATABASE as the default database), verifies and closes it. Returns the exit code.
 */
export async function runVerifyCommand(
  options: VerifyCommandOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; isTTY: boolean; env: NodeJS.ProcessEnv },
): Promise<number> {
  const target = resolveVerifyTarget({
    data: options.data,
    clickhouse: options.clickhouse,
    database: options.database,
    env: io.env,
    exists: existsSync,
  });
  if (target.kind === 'usage') {
    io.err.write(`phi-audit verify: ${target.message}\n`);
    return VERIFY_EXIT.error;
  }
  let verifiers: NoteVerifier[];
  let trusted: TrustedCheckpointNote[];
  try {
    const inputs = resolveTrustInputs(options, target, io.env, existsSync);
    verifiers = loadVerifierKeys(inputs.keyEntries);
    trusted = readTrustedFiles(inputs.trustedFiles);
    if (inputs.exportDir !== undefined) trusted.push(...(await readExportedCheckpoints(inputs.exportDir)));
    for (const note of inputs.notes) io.err.write(`phi-audit verify: ${note}\n`);
  } catch (e) {
    io.err.write(`phi-audit verify: ${describeError(e)}\n`);
    return VERIFY_EXIT.error;
  }
  let store: VerifiableStore & { close(): Promise<void> };
  try {
    if (target.kind === 'data') {
      store = createSqliteLedgerStore({ file: target.file, readonly: true });
      if (target.reason !== '--data')
        io.err.write(`phi-audit verify: embedded ledger ${target.file} (${target.reason})\n`);
    } else {
      const database = options.database ?? io.env.CLICKHOUSE_DATABASE;
      store = createClickHouseLedgerStore({ url: target.url, ...(database !== undefined ? { database } : {}) });
    }
  } catch (e) {
    io.err.write(`phi-audit verify: ${describeError(e)}\n`);
    return VERIFY_EXIT.error;
  }
  try {
    return await runVerify({
      store,
      out: io.out,
      err: io.err,
      isTTY: io.isTTY,
      verifiers,
      trusted,
      ...(options.log !== undefined ? { origins: options.log } : {}),
    });
  } finally {
    await store.close();
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * `phi-audit verify [--data <dir> | --clickhouse <url> [--database <name>]] [--log <origin>...]
 * [--key <key or file>]... [--trusted <file>]... [--checkpoints <dir>]`: recomputes every leaf
 * hash, chain value and Merkle root of the ledger, checks them against the signed checkpoints
 * (stored, exported, trusted) and the stored tiles, and names the first bad index of each log.
 * Exit 0 all OK, 1 a log failed, 2 usage or connection error.
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      'Recompute the hash chain and Merkle tree of every ledger log, check them against the signed checkpoints, and name the first bad index',
    )
    .option(
      '--data <dir>',
      `embedded mode: the data directory holding ${LEDGER_FILE} (opened read-only); default $PHI_AUDIT_DATA_DIR, or ./data when it holds a ledger`,
    )
    .option(
      '--clickhouse <url>',
      'cluster mode: ClickHouse HTTP URL (http[s]://user:password@host:port); default $CLICKHOUSE_URL when no embedded ledger is found',
    )
    .option('--database <name>', 'ClickHouse database, default $CLICKHOUSE_DATABASE or phi_audit')
    .option('--log <origin...>', 'verify only these logs (e.g. phi-audit/access-events/0)')
    .option(
      '--key <key-or-file>',
      `trusted checkpoint verifier key, or a file of them (repeatable); default $PHI_AUDIT_VERIFIER_KEYS (separated by commas or newlines), plus <data>/${DATA_VERIFIER_KEY_FILE} for --data`,
      collect,
    )
    .option('--trusted <file>', 'a signed checkpoint saved earlier, e.g. by an auditor (repeatable)', collect)
    .option(
      '--checkpoints <dir>',
      `directory of exported checkpoints; default <data>/${DATA_CHECKPOINT_DIR} for --data, $CHECKPOINT_EXPORT_DIR for ClickHouse`,
    )
    .action(async (opts: VerifyCommandOptions) => {
      process.exitCode = await runVerifyCommand(opts, {
        out: process.stdout,
        err: process.stderr,
        isTTY: process.stdout.isTTY === true,
        env: process.env,
      });
    });
}
