import { chmodSync, closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadVerifierKeys } from '@phi-audit/checkpoints';
import {
  EVIDENCE_FORMAT,
  bundleEvidenceRecords,
  findEvidenceRecords,
  isEvidenceError,
  verifierKeyLabel,
  verifyEvidenceBundle,
  type EvidenceSelector,
  type EvidenceStore,
  type NoteVerifier,
  type StoredRecord,
} from '@phi-audit/ledger';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { createSqliteLedgerStore, ledgerFileIn } from '@phi-audit/store-sqlite';
import { verifierKeyEntriesFromEnv } from './verifier-keys.js';

/** Exit codes of `phi-audit evidence`. */
export const EVIDENCE_EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** The verifier key file embedded mode writes beside its signing key in the data directory. */
export const DATA_DIR_VERIFIER_KEY_FILE = 'checkpoint-signing.key.pub';

/** The store methods an evidence export reads (shared with the console's export). */
export type { EvidenceSelector, EvidenceStore };

export interface RunEvidenceOptions {
  store: EvidenceStore;
  tenant: string;
  selector: EvidenceSelector;
  /** Inclusive lower bound on event time, epoch ms (patient/user queries). */
  from?: number | undefined;
  /** Exclusive upper bound, epoch ms. */
  to?: number | undefined;
  trustedKeys: readonly NoteVerifier[];
  /** The bundle file to create (must not exist). */
  outFile: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** An expected refusal: printed as is, exit 1. */
class EvidenceRefusal extends Error {}

/** The rows asked for (findEvidenceRecords); a selection that finds nothing to bundle is a refusal. */
async function findRecords(options: RunEvidenceOptions): Promise<StoredRecord[]> {
  const { tenant } = options;
  const found = await findEvidenceRecords(options.store, {
    tenant,
    selector: options.selector,
    from: options.from,
    to: options.to,
  });
  if (found.ok) return found.records;
  switch (found.reason) {
    case 'unknown_events': {
      const { missing } = found;
      throw new EvidenceRefusal(
        `${missing.length} of the requested events ${missing.length === 1 ? 'is' : 'are'} not in tenant ${tenant}'s ledger: ${missing.map((id) => JSON.stringify(id)).join(', ')}`,
      );
    }
    case 'too_many':
      throw new EvidenceRefusal(
        `the query matches ${found.limit} or more records, more than one bundle holds; narrow it with --from/--to`,
      );
    case 'no_match':
      throw new EvidenceRefusal('no records match the query: nothing to bundle');
    default:
      return found satisfies never;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Creates `file` with mode 0600 (it holds PHI), refusing to replace an existing one. */
function writePrivateFile(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  // A umask never adds bits, but make the mode explicit whatever created the process.
  chmodSync(file, 0o600);
}

/**
 * Exports an evidence bundle: finds the records, takes each log's latest stored checkpoint,
 * requires it to verify with `trustedKeys` and to cover every record, builds and checks every
 * inclusion proof (buildEvidenceBundle), writes the file (mode 0600) and prints a summary —
 * never event contents. Returns the exit code: 0 written, 1 no bundle can be made (nothing
 * found, not yet checkpointed, a check failed), 2 the store or the file cannot be used.
 */
export async function runEvidence(options: RunEvidenceOptions): Promise<number> {
  const { store, out, err } = options;
  if (existsSync(options.outFile)) {
    err.write(`phi-audit evidence: ${options.outFile} already exists; choose another --out or remove it\n`);
    return EVIDENCE_EXIT.error;
  }
  let text: string;
  try {
    const records = await findRecords(options);
    text = await bundleEvidenceRecords({ store, records, trustedKeys: options.trustedKeys });
  } catch (e) {
    if (e instanceof EvidenceRefusal) {
      err.write(`phi-audit evidence: ${e.message}\n`);
      return EVIDENCE_EXIT.failed;
    }
    if (isEvidenceError(e)) {
      err.write(`phi-audit evidence: cannot produce evidence: ${e.message}\n`);
      if (e.code === 'EVIDENCE_NOT_CHECKPOINTED') {
        err.write(
          'phi-audit evidence: new records are checkpointed within CHECKPOINT_INTERVAL_SECONDS (default 10 s) of being written; retry after that\n',
        );
      }
      return EVIDENCE_EXIT.failed;
    }
    err.write(`phi-audit evidence: cannot read the ledger: ${e instanceof Error ? e.message : String(e)}\n`);
    return EVIDENCE_EXIT.error;
  }

  const verified = verifyEvidenceBundle(text, { trustedKeys: options.trustedKeys });
  try {
    writePrivateFile(options.outFile, text);
  } catch (e) {
    err.write(`phi-audit evidence: cannot write ${options.outFile}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EVIDENCE_EXIT.error;
  }
  out.write(`wrote ${options.outFile} (${EVIDENCE_FORMAT}, mode 0600: it contains PHI)\n`);
  out.write(
    `  ${plural(verified.records.length, 'record')} from ${plural(verified.checkpoints.length, 'log')}, every inclusion proof verified\n`,
  );
  for (const c of verified.checkpoints) {
    const n = verified.records.filter((r) => r.origin === c.origin).length;
    out.write(`  ${c.origin}: ${plural(n, 'record')}, checkpoint size ${c.size}, signed by ${c.signedBy.join(', ')}\n`);
  }
  for (const k of verified.keys) out.write(`  key ${k.label}\n`);
  out.write(
    `check it anywhere with: phi-audit verify-evidence ${options.outFile} --key <the published verifier key>\n`,
  );
  return EVIDENCE_EXIT.ok;
}

export { verifierKeyEntriesFromEnv };

/** Parses an ISO 8601 time with a zone (or a date, meaning UTC midnight) to epoch ms. */
export function parseIsoTime(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export interface EvidenceCommandOptions {
  data?: string;
  clickhouse?: string;
  database?: string;
  tenant?: string;
  event?: string[];
  patient?: string;
  user?: string;
  from?: string;
  to?: string;
  key?: string[];
  out?: string;
}

type Usage = { usage: string };

/** Validates the command line into what runEvidence needs (store target and key entries apart). */
export function parseEvidenceArgs(
  o: EvidenceCommandOptions,
  env: NodeJS.ProcessEnv,
):
  | Usage
  | {
      target: { kind: 'data'; dir: string } | { kind: 'clickhouse'; url: string; database?: string | undefined };
      tenant: string;
      selector: EvidenceSelector;
      from?: number;
      to?: number;
      keyEntries: string[];
      keySource: string;
      outFile: string;
    } {
  if (o.data !== undefined && o.clickhouse !== undefined)
    return { usage: 'use either --data <dir> or --clickhouse <url>, not both' };
  if (o.data !== undefined && o.database !== undefined) return { usage: '--database applies to --clickhouse only' };
  const data = o.data ?? (o.clickhouse === undefined ? env.PHI_AUDIT_DATA_DIR : undefined);
  const url = o.clickhouse ?? (data === undefined ? env.CLICKHOUSE_URL : undefined);
  if (!data && !url) {
    return { usage: 'pass --data <dir> (embedded mode) or --clickhouse <url> (cluster mode)' };
  }
  if (!o.tenant) return { usage: '--tenant <tenant> is required' };
  const selectors = [o.event !== undefined, o.patient !== undefined, o.user !== undefined].filter(Boolean).length;
  if (selectors !== 1) return { usage: 'pass exactly one of --event <id...>, --patient <id>, --user <id>' };
  let selector: EvidenceSelector;
  if (o.event !== undefined) {
    if (o.event.length === 0 || o.event.some((id) => id === '')) return { usage: '--event needs non-empty event ids' };
    if (o.from !== undefined || o.to !== undefined) return { usage: '--from/--to apply to --patient and --user only' };
    selector = { kind: 'events', eventIds: [...new Set(o.event)] };
  } else if (o.patient !== undefined) {
    if (o.patient === '') return { usage: '--patient must not be empty' };
    selector = { kind: 'patient', patientId: o.patient };
  } else {
    if (!o.user) return { usage: '--user must not be empty' };
    selector = { kind: 'user', userId: o.user };
  }
  const from = o.from === undefined ? undefined : parseIsoTime(o.from);
  const to = o.to === undefined ? undefined : parseIsoTime(o.to);
  if (o.from !== undefined && from === undefined)
    return { usage: '--from must be an ISO 8601 time with a zone (2026-01-31T08:00:00Z) or a date' };
  if (o.to !== undefined && to === undefined)
    return { usage: '--to must be an ISO 8601 time with a zone (2026-01-31T08:00:00Z) or a date' };
  if (from !== undefined && to !== undefined && from >= to) return { usage: '--from must be before --to' };
  if (!o.out) return { usage: '--out <file> is required' };

  let keyEntries: string[];
  let keySource: string;
  if (o.key !== undefined && o.key.length > 0) {
    keyEntries = o.key;
    keySource = '--key';
  } else if (verifierKeyEntriesFromEnv(env.PHI_AUDIT_VERIFIER_KEYS).length > 0) {
    keyEntries = verifierKeyEntriesFromEnv(env.PHI_AUDIT_VERIFIER_KEYS);
    keySource = '$PHI_AUDIT_VERIFIER_KEYS';
  } else if (data && existsSync(join(data, DATA_DIR_VERIFIER_KEY_FILE))) {
    keyEntries = [join(data, DATA_DIR_VERIFIER_KEY_FILE)];
    keySource = join(data, DATA_DIR_VERIFIER_KEY_FILE);
  } else {
    return {
      usage:
        'no trusted verifier key: pass --key <verifier key or file> or set $PHI_AUDIT_VERIFIER_KEYS' +
        (data ? ` (the data directory has no ${DATA_DIR_VERIFIER_KEY_FILE})` : ''),
    };
  }
  return {
    target: data
      ? { kind: 'data', dir: data }
      : { kind: 'clickhouse', url: url!, database: o.database ?? env.CLICKHOUSE_DATABASE },
    tenant: o.tenant,
    selector,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    keyEntries,
    keySource,
    outFile: o.out,
  };
}

/** The whole `phi-audit evidence` command: parses, opens the store (SQLite read-only), exports, closes. */
export async function runEvidenceCommand(
  options: EvidenceCommandOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<number> {
  const args = parseEvidenceArgs(options, io.env);
  if ('usage' in args) {
    io.err.write(`phi-audit evidence: ${args.usage}\n`);
    return EVIDENCE_EXIT.error;
  }
  let trustedKeys: NoteVerifier[];
  try {
    trustedKeys = loadVerifierKeys(args.keyEntries);
  } catch (e) {
    io.err.write(`phi-audit evidence: ${e instanceof Error ? e.message : String(e)}\n`);
    return EVIDENCE_EXIT.error;
  }
  if (trustedKeys.length === 0) {
    io.err.write(`phi-audit evidence: ${args.keySource} holds no verifier key\n`);
    return EVIDENCE_EXIT.error;
  }
  io.err.write(
    `phi-audit evidence: trusted keys (${args.keySource}): ${trustedKeys.map(verifierKeyLabel).join(', ')}\n`,
  );
  let store: EvidenceStore & { close(): Promise<void> };
  try {
    store =
      args.target.kind === 'data'
        ? createSqliteLedgerStore({ file: ledgerFileIn(args.target.dir), readonly: true })
        : createClickHouseLedgerStore({
            url: args.target.url,
            ...(args.target.database !== undefined ? { database: args.target.database } : {}),
          });
  } catch (e) {
    io.err.write(`phi-audit evidence: ${e instanceof Error ? e.message : String(e)}\n`);
    return EVIDENCE_EXIT.error;
  }
  try {
    return await runEvidence({
      store,
      tenant: args.tenant,
      selector: args.selector,
      from: args.from,
      to: args.to,
      trustedKeys,
      outFile: args.outFile,
      out: io.out,
      err: io.err,
    });
  } finally {
    await store.close();
  }
}

/**
 * `phi-audit evidence (--data <dir> | --clickhouse <url> [--database <name>]) --tenant <t>
 * (--event <id...> | --patient <id> | --user <id>) [--from <iso>] [--to <iso>] [--key <k...>] --out <file>`:
 * writes an evidence bundle a third party verifies offline with `phi-audit verify-evidence`.
 */
export function registerEvidenceCommand(program: Command): void {
  program
    .command('evidence')
    .description('Export access events with signed checkpoints and inclusion proofs, verifiable offline')
    .option('--data <dir>', 'embedded mode: the data directory (opened read-only); default $PHI_AUDIT_DATA_DIR')
    .option('--clickhouse <url>', 'cluster mode: ClickHouse HTTP URL; default $CLICKHOUSE_URL')
    .option('--database <name>', 'ClickHouse database, default $CLICKHOUSE_DATABASE or phi_audit')
    .option('--tenant <tenant>', 'the tenant whose ledger is searched (required)')
    .option('--event <id...>', 'these event ids')
    .option('--patient <id>', "every access to this patient's record")
    .option('--user <id>', 'every access by this user')
    .option('--from <iso>', 'only events at or after this time (ISO 8601 with zone, or a date)')
    .option('--to <iso>', 'only events before this time')
    .option(
      '--key <key...>',
      `trusted verifier key(s) or key files the checkpoints must verify with; default $PHI_AUDIT_VERIFIER_KEYS, or <data dir>/${DATA_DIR_VERIFIER_KEY_FILE}`,
    )
    .option('--out <file>', 'the bundle file to create, mode 0600 (required)')
    .action(async (opts: EvidenceCommandOptions) => {
      process.exitCode = await runEvidenceCommand(opts, { out: process.stdout, err: process.stderr, env: process.env });
    });
}
