import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportFileName } from '@phi-audit/checkpoints';
import { openCheckpoint, parseVerifierKey, rootOfLeafHashes, type StoredCheckpoint } from '@phi-audit/ledger';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';

/** One log's checkpoint facts, recomputed from what ClickHouse and the export directory hold. */
export interface LogCheckpointFacts {
  origin: string;
  /** Rows of the log (scan). */
  records: number;
  /** rootOfLeafHashes over the stored leaf hashes in scan order, hex. */
  recomputedRootHex: string;
  /** Leaves covered by the stored level-0 tiles. */
  tileCoverage: number;
  /** Stored checkpoints of the log. */
  checkpoints: number;
  latest: StoredCheckpoint | undefined;
  /** The latest note opened with the stack's verifier key; `error` says why not. */
  opened: { size: number; rootHex: string } | { error: string };
  /** The log's exported file, if any. */
  exported: string | undefined;
}

/**
 * Reads every log of `database` (those with records or checkpoints) and recomputes its checkpoint
 * facts: the assertions of the cluster e2e and fault tests are made on these.
 */
export async function checkpointFacts(options: {
  clickhouseUrl: string;
  database: string;
  verifierKeyFile: string;
  exportDir: string;
}): Promise<LogCheckpointFacts[]> {
  const verifier = parseVerifierKey((await readFile(options.verifierKeyFile, 'utf8')).trim());
  const store = createClickHouseLedgerStore({ url: options.clickhouseUrl, database: options.database });
  try {
    const origins = new Set([...(await store.heads()).map((h) => h.origin), ...(await store.checkpointedLogs())]);
    const facts: LogCheckpointFacts[] = [];
    for (const origin of [...origins].sort()) {
      const leaves: Buffer[] = [];
      for await (const r of store.scan(origin)) leaves.push(Buffer.from(r.leafHash, 'hex'));
      const latest = await store.latestCheckpoint(origin);
      let opened: LogCheckpointFacts['opened'];
      try {
        if (latest === undefined) throw new Error('no checkpoint');
        const { checkpoint } = openCheckpoint(latest.note, [verifier]);
        opened = { size: checkpoint.size, rootHex: checkpoint.root.toString('hex') };
      } catch (err) {
        opened = { error: err instanceof Error ? err.message : String(err) };
      }
      const exported = await readFile(join(options.exportDir, exportFileName(origin)), 'utf8').catch(() => undefined);
      facts.push({
        origin,
        records: leaves.length,
        recomputedRootHex: rootOfLeafHashes(leaves).toString('hex'),
        tileCoverage: await store.tileCoverage(origin),
        checkpoints: (await store.checkpoints(origin)).length,
        latest,
        opened,
        exported,
      });
    }
    return facts;
  } finally {
    await store.close();
  }
}

/**
 * What a correctly checkpointed log looks like after its writer stopped gracefully: tiles cover
 * it, the latest checkpoint is at its size with the recomputed root and verifies, and the
 * exported file is that note. Use with `toMatchObject` against the facts.
 */
export function expectedCheckpointFacts(f: LogCheckpointFacts): Record<string, unknown> {
  return {
    origin: f.origin,
    tileCoverage: f.records,
    latest: { origin: f.origin, size: f.records, rootHex: f.recomputedRootHex },
    opened: { size: f.records, rootHex: f.recomputedRootHex },
    // undefined when there is no checkpoint: then `latest` above fails already.
    exported: f.latest?.note,
  };
}
