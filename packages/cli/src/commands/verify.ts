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

/**
 * `phi-audit verify --clickhouse <url> [--database <name>] [--log <origin>...]`: recomputes
 * every leaf hash and chain value of the ClickHouse ledger and names the first bad index of
 * each log. Exit 0 all OK, 1 a log failed, 2 usage or connection error.
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Recompute the hash chain of every ledger log and name the first bad index')
    .option(
      '--clickhouse <url>',
      'ClickHouse HTTP URL (http[s]://user:password@host:port), default $CLICKHOUSE_URL',
      process.env.CLICKHOUSE_URL,
    )
    .option('--database <name>', 'database, default $CLICKHOUSE_DATABASE or phi_audit', process.env.CLICKHOUSE_DATABASE)
    .option('--log <origin...>', 'verify only these logs (e.g. phi-audit/access-events/0)')
    .action(async (opts: { clickhouse?: string; database?: string; log?: string[] }) => {
      if (!opts.clickhouse) {
        process.stderr.write('phi-audit verify: --clickhouse <url> or CLICKHOUSE_URL is required\n');
        process.exitCode = VERIFY_EXIT.error;
        return;
      }
      let store;
      try {
        store = createClickHouseLedgerStore({
          url: opts.clickhouse,
          ...(opts.database !== undefined ? { database: opts.database } : {}),
        });
      } catch (e) {
        process.stderr.write(`phi-audit verify: ${describeError(e)}\n`);
        process.exitCode = VERIFY_EXIT.error;
        return;
      }
      try {
        process.exitCode = await runVerify({
          store,
          out: process.stdout,
          err: process.stderr,
          isTTY: process.stdout.isTTY === true,
          ...(opts.log !== undefined ? { origins: opts.log } : {}),
        });
      } finally {
        await store.close();
      }
    });
}
