/**
 * Checks of embedded mode's Merkle tiles as a crash (or a full disk) may leave them: the writer
 * holds back the tiles of a partial 256-leaf tile until a checkpoint or a clean stop needs them,
 * so stored tiles may lag the records by less than one tile, never behind a signed checkpoint.
 */
import { loadLogTiles } from '@phi-audit/checkpoints';
import {
  createTileBuilder,
  createTileNodeReader,
  hashRanges,
  openCheckpoint,
  parseVerifierKey,
  TILE_WIDTH,
} from '@phi-audit/ledger';
import { createSqliteLedgerStore, ledgerFileIn } from '@phi-audit/store-sqlite';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LaggingTilesReport {
  /** Per log: records, stored tile coverage, latest checkpoint size (0 when none). */
  logs: { origin: string; size: number; coverage: number; checkpointSize: number }[];
  problems: string[];
}

/**
 * Checks the stored tiles of every log without repairing them: coverage ≥ the latest
 * checkpoint's size and > size − 256 (full tiles are written with the records completing
 * them); every stored tile is a prefix of the tile the stored leaves make; and the root at the
 * latest checkpoint's size read from the stored tiles (what a proof uses) is the signed one.
 */
export async function checkLaggingTiles(dataDir: string): Promise<LaggingTilesReport> {
  const verifier = parseVerifierKey(readFileSync(join(dataDir, 'checkpoint-signing.key.pub'), 'utf8'));
  const store = createSqliteLedgerStore({ file: ledgerFileIn(dataDir), readonly: true });
  const report: LaggingTilesReport = { logs: [], problems: [] };
  try {
    for (const { origin, size } of await store.heads()) {
      const problem = (what: string): void => void report.problems.push(`${origin}: ${what}`);
      const builder = createTileBuilder({ size: 0, rightEdge: [] });
      for await (const r of store.scan(origin)) builder.append([Buffer.from(r.leafHash, 'hex')]);
      const coverage = await store.tileCoverage(origin);
      const latest = await store.latestCheckpoint(origin);
      const checkpointSize = latest?.size ?? 0;
      report.logs.push({ origin, size, coverage, checkpointSize });
      if (coverage > size) problem(`tile coverage ${coverage} beyond the log (${size})`);
      if (coverage <= size - TILE_WIDTH) problem(`tile coverage ${coverage} lags the log (${size}) by a whole tile`);
      if (coverage < checkpointSize)
        problem(`tile coverage ${coverage} below the latest checkpoint (${checkpointSize})`);
      const expected = builder.takeChanged();
      for (const stored of await store.readTiles(origin, expected)) {
        const full = expected.find((t) => t.level === stored.level && t.index === stored.index);
        if (full === undefined || !full.hashes.subarray(0, stored.hashes.length).equals(stored.hashes)) {
          problem(`tile ${stored.level}/${stored.index} differs from the leaves`);
        }
      }
      if (latest !== undefined) {
        const { checkpoint } = openCheckpoint(latest.note, [verifier]);
        const reader = createTileNodeReader((ids) => store.readTiles(origin, ids), latest.size);
        try {
          const [root] = await hashRanges([[0, latest.size]], reader);
          if (root === undefined || !root.equals(checkpoint.root)) problem('tiles disagree with the latest checkpoint');
        } catch (error) {
          problem(`tiles cannot prove the latest checkpoint: ${(error as Error).message}`);
        }
      }
    }
  } finally {
    await store.close();
  }
  return report;
}

/** What the next start does to every log's tiles (loadLogTiles at its head); returns the sizes. */
export async function repairTiles(dataDir: string): Promise<Map<string, number>> {
  const store = createSqliteLedgerStore({ file: ledgerFileIn(dataDir) });
  const sizes = new Map<string, number>();
  try {
    for (const { origin, size } of await store.heads()) {
      sizes.set(origin, (await loadLogTiles(store, origin, size)).size);
    }
  } finally {
    await store.close();
  }
  return sizes;
}
