import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportFileName } from '@phi-audit/checkpoints';
import {
  createMerkleAccumulator,
  createTileBuilder,
  openCheckpoint,
  parseVerifierKey,
  rootOfLeafHashes,
  verifyLog,
} from '@phi-audit/ledger';
import { createSqliteLedgerStore, ledgerFileIn } from '@phi-audit/store-sqlite';

export interface SqliteLedgerReport {
  /** Every stored event id, in log order. */
  ids: string[];
  lost: string[];
  invented: string[];
  /** Logs whose row count differs from their number of distinct event ids. */
  duplicatedLogs: { log: string; rows: number; distinct: number }[];
  /** Logs that do not verify, with the verifier's message. */
  failures: string[];
  rows: number;
}

/**
 * TESTING.md's no-loss oracle over an embedded (SQLite) data directory, read through the
 * store as `phi-audit verify --data` does: acknowledged − stored = ∅, stored − attempted = ∅,
 * rows = distinct event ids per log, and every log verifies to its head.
 */
export async function checkSqliteLedger(
  dataDir: string,
  expected: { acknowledged?: ReadonlySet<string>; attempted?: ReadonlySet<string> } = {},
): Promise<SqliteLedgerReport> {
  const store = createSqliteLedgerStore({ file: ledgerFileIn(dataDir), readonly: true });
  try {
    const report: SqliteLedgerReport = { ids: [], lost: [], invented: [], duplicatedLogs: [], failures: [], rows: 0 };
    for (const head of await store.heads()) {
      const distinct = new Set<string>();
      let rows = 0;
      for await (const r of store.scan(head.origin)) {
        report.ids.push(r.eventId);
        distinct.add(r.eventId);
        rows += 1;
      }
      report.rows += rows;
      if (rows !== distinct.size) report.duplicatedLogs.push({ log: head.origin, rows, distinct: distinct.size });
      const v = await verifyLog({ origin: head.origin, records: store.scan(head.origin) });
      if (!v.ok || v.head.size !== head.size)
        report.failures.push(`${head.origin}: ${v.failure?.message ?? 'short scan'}`);
    }
    const stored = new Set(report.ids);
    if (expected.acknowledged) report.lost = [...expected.acknowledged].filter((id) => !stored.has(id));
    if (expected.attempted) {
      const attempted = expected.attempted;
      report.invented = report.ids.filter((id) => !attempted.has(id));
    }
    return report;
  } finally {
    await store.close();
  }
}

/** One log as the proof oracle found it. */
export interface SqliteLogProofs {
  origin: string;
  size: number;
  tileCoverage: number;
  /** Sizes of the stored checkpoints, ascending. */
  checkpointSizes: number[];
  /** The latest stored checkpoint's note, if any. */
  latestNote: string | undefined;
}

export interface SqliteProofReport {
  logs: SqliteLogProofs[];
  /** Everything that is wrong, one line each (empty: consistent). */
  problems: string[];
}

/**
 * The Merkle half of the oracle over an embedded data directory, computed from the stored leaf
 * hashes alone (not from the writer's state): every log's tiles cover it (tileCoverage = size)
 * and equal the tiles rebuilt from its leaf hashes; every stored checkpoint opens with the
 * verifier key (`<data>/checkpoint-signing.key.pub` unless given), names its log, and its root
 * is the RFC 9162 root of the first `size` stored leaf hashes (the latest one checked with
 * rootOfLeafHashes); checkpoint sizes never exceed the log. With `complete` (after a clean
 * stop), every log must have a checkpoint, the latest at the log's head, and the exported
 * `<exportDir>/<origin>.checkpoint` must equal it.
 */
export async function checkSqliteProofs(
  dataDir: string,
  options: { verifierKey?: string; exportDir?: string; complete?: boolean } = {},
): Promise<SqliteProofReport> {
  const verifier = parseVerifierKey(
    options.verifierKey ?? readFileSync(join(dataDir, 'checkpoint-signing.key.pub'), 'utf8'),
  );
  const exportDir = options.exportDir ?? join(dataDir, 'checkpoints');
  const store = createSqliteLedgerStore({ file: ledgerFileIn(dataDir), readonly: true });
  const report: SqliteProofReport = { logs: [], problems: [] };
  const problem = (origin: string, what: string): void => {
    report.problems.push(`${origin}: ${what}`);
  };
  try {
    for (const head of await store.heads()) {
      const { origin, size } = head;
      const leaves: Buffer[] = [];
      for await (const r of store.scan(origin)) leaves.push(Buffer.from(r.leafHash, 'hex'));
      const coverage = await store.tileCoverage(origin);
      if (coverage !== size) problem(origin, `tile coverage ${coverage} ≠ size ${size}`);

      // The tiles a fresh builder makes from the stored leaves must be exactly the stored ones.
      const builder = createTileBuilder({ size: 0, rightEdge: [] });
      builder.append(leaves);
      const expected = builder.takeChanged();
      const stored = new Map(
        (await store.readTiles(origin, expected)).map((t) => [`${t.level}/${t.index}`, t.hashes.toString('hex')]),
      );
      for (const t of expected) {
        const got = stored.get(`${t.level}/${t.index}`);
        if (got !== t.hashes.toString('hex')) {
          problem(origin, `tile ${t.level}/${t.index} ${got === undefined ? 'missing' : 'differs from the leaves'}`);
        }
      }

      const checkpoints = [...(await store.checkpoints(origin))].sort((a, b) => a.size - b.size);
      const accumulator = createMerkleAccumulator();
      for (const cp of checkpoints) {
        if (cp.size > size) {
          problem(origin, `checkpoint at size ${cp.size} beyond the log (${size})`);
          continue;
        }
        while (accumulator.size < cp.size) accumulator.append(leaves[accumulator.size]!);
        let opened;
        try {
          opened = openCheckpoint(cp.note, [verifier]).checkpoint;
        } catch (error) {
          problem(origin, `checkpoint at size ${cp.size} does not open: ${(error as Error).message}`);
          continue;
        }
        if (opened.origin !== origin || opened.size !== cp.size || opened.root.toString('hex') !== cp.rootHex) {
          problem(origin, `checkpoint at size ${cp.size}: its note disagrees with its row`);
        }
        if (opened.root.toString('hex') !== accumulator.root().toString('hex')) {
          problem(origin, `checkpoint at size ${cp.size}: root differs from the stored leaves`);
        }
      }
      const latest = await store.latestCheckpoint(origin);
      // Right after a crash a log may not have been signed yet; after a clean stop it must be.
      if (latest === undefined) {
        if (options.complete === true) problem(origin, 'no checkpoint');
      } else {
        const root = rootOfLeafHashes(leaves.slice(0, latest.size));
        if (root.toString('hex') !== latest.rootHex) problem(origin, 'latest checkpoint root ≠ rootOfLeafHashes');
        if (options.complete === true) {
          if (latest.size !== size) problem(origin, `latest checkpoint at ${latest.size}, log at ${size}`);
          let exported: string | undefined;
          try {
            exported = readFileSync(join(exportDir, exportFileName(origin)), 'utf8');
          } catch {
            exported = undefined;
          }
          if (exported !== latest.note)
            problem(
              origin,
              `exported checkpoint ${exported === undefined ? 'missing' : 'differs from the latest stored note'}`,
            );
        }
      }
      report.logs.push({
        origin,
        size,
        tileCoverage: coverage,
        checkpointSizes: checkpoints.map((c) => c.size),
        latestNote: latest?.note,
      });
    }
    return report;
  } finally {
    await store.close();
  }
}
