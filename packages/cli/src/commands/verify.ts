import { existsSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import {
  verifyLog,
  type LogHead,
  type LogVerification,
  type VerifiableStore,
  type VerifyFailure,
} from '@phi-audit/ledger';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { createSqliteLedgerStore, LEDGER_FILE, ledgerFileIn } from '@phi-audit/store-sqlite';

/** Exit codes of `phi-audit verify`. */
export const VERIFY_EXIT = { ok: 0, failed: 1, error: 2 } as const;

export interface RunVerifyOptions {
  store: VerifiableStore;
  /** Where result lines (and, on a TTY, progress bars) go. */
  out: NodeJS.WritableStream;
  /** Where error messages go; default `out`. */
  err?: NodeJS.WritableStream;
  /** Show a progress bar per log. */
  isTTY: boolean;
  /** Logs to verify; default every log in the store. */
  origins?: string[];
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
function shortScan(v: LogVerification, head: LogHead): VerifyFailure | undefined {
  if (!v.ok || v.head.size >= head.size) return undefined;
  const i = v.head.size;
  return {
    index: i,
    kind: 'index_gap',
    message: `records ${i} to ${head.size - 1} are missing: the store reports ${head.size} records but the scan ended after ${i}`,
  };
}

async function verifyOne(
  store: VerifiableStore,
  head: LogHead,
  out: NodeJS.WritableStream,
  isTTY: boolean,
): Promise<VerifyFailure | undefined> {
  const bar = isTTY
    ? new SingleBar({
        stream: out,
        format: `${head.origin} [{bar}] {percentage}% | {value}/{total} records | ETA {eta_formatted}`,
        clearOnComplete: true,
        hideCursor: true,
      })
    : undefined;
  bar?.start(head.size, 0);
  let v: LogVerification;
  try {
    v = await verifyLog({
      origin: head.origin,
      records: store.scan(head.origin),
      ...(bar ? { onProgress: (n: number) => bar.update(Math.min(n, head.size)) } : {}),
    });
  } finally {
    bar?.stop();
  }
  const failure = v.failure ?? shortScan(v, head);
  if (failure === undefined) {
    out.write(`${head.origin}  ${v.head.size} records  OK\n`);
  } else {
    out.write(
      `${head.origin}  ${head.size} records  FAILED at index ${failure.index}: ${failure.kind}: ${failure.message}\n`,
    );
  }
  return failure;
}

/**
 * Verifies every log of `store` (or the given `origins`) from genesis, one line per log and
 * a summary line. Returns the exit code: 0 when every log verifies, 1 when any fails,
 * 2 when the store cannot be read or a requested log does not exist.
 */
export async function runVerify(options: RunVerifyOptions): Promise<number> {
  const { store, out, isTTY } = options;
  const err = options.err ?? out;
  try {
    let heads = [...(await store.heads())].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
    if (options.origins !== undefined && options.origins.length > 0) {
      const known = new Map(heads.map((h) => [h.origin, h]));
      const unknown = options.origins.filter((o) => !known.has(o));
      if (unknown.length > 0) {
        const list = heads
          .slice(0, 10)
          .map((h) => h.origin)
          .join(', ');
        err.write(
          `error: no log named ${unknown.map((o) => `"${o}"`).join(', ')} in the store (logs: ${list || 'none'}${heads.length > 10 ? ', …' : ''})\n`,
        );
        return VERIFY_EXIT.error;
      }
      heads = [...new Set(options.origins)].map((o) => known.get(o) as LogHead);
    }
    if (heads.length === 0) {
      out.write('no logs in the store: nothing to verify\n');
      return VERIFY_EXIT.ok;
    }
    let failed = 0;
    let records = 0;
    for (const head of heads) {
      if ((await verifyOne(store, head, out, isTTY)) !== undefined) failed += 1;
      records += head.size;
    }
    const logs = `${heads.length} ${heads.length === 1 ? 'log' : 'logs'}`;
    out.write(
      failed === 0
        ? `verified ${logs}, ${records} records: all OK\n`
        : `verified ${logs}: ${heads.length - failed} OK, ${failed} FAILED\n`,
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
}

/**
 * The whole `phi-audit verify` command: picks the ledger (resolveVerifyTarget), opens it
 * (SQLite read-only; ClickHouse with $CLICKHOUSE_DATABASE as the default database), verifies
 * and closes it. Returns the exit code.
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
      ...(options.log !== undefined ? { origins: options.log } : {}),
    });
  } finally {
    await store.close();
  }
}

/**
 * `phi-audit verify [--data <dir> | --clickhouse <url> [--database <name>]] [--log <origin>...]`:
 * recomputes every leaf hash and chain value of the ledger and names the first bad index of
 * each log. Exit 0 all OK, 1 a log failed, 2 usage or connection error.
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Recompute the hash chain of every ledger log and name the first bad index')
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
    .action(async (opts: VerifyCommandOptions) => {
      process.exitCode = await runVerifyCommand(opts, {
        out: process.stdout,
        err: process.stderr,
        isTTY: process.stdout.isTTY === true,
        env: process.env,
      });
    });
}
