/**
 * The tile half of verification: the store's Merkle tiles (the data proofs are served from)
 * are compared with the tiles rebuilt from the verified records as the scan goes, in batches,
 * and the consistency proof between consecutive checkpoints is rebuilt from the stored tiles
 * and checked. Memory stays bounded: one partial tile per tile level plus one batch.
 */
import type { Checkpoint } from './checkpoint.js';
import { isLedgerError } from './errors.js';
import { consistencyProof, verifyConsistency } from './proofs.js';
import { createTileBuilder, createTileNodeReader, TILE_HEIGHT, TILE_WIDTH, type Tile, type TileId } from './tiles.js';
import type { VerifyFailure } from './verify-log.js';

/** Reads stored tiles of the log being verified (absent ones omitted, any order). */
export type ReadTiles = (ids: readonly TileId[]) => Promise<Tile[]>;

/** What the tile check saw; missing or lagging tiles are worth a note, not a failure. */
export interface TileCheckSummary {
  /** Stored tiles compared (a partial tile compared at several sizes counts each time). */
  compared: number;
  /** Tiles the records imply that the store does not hold (counted once, at the end for partial ones). */
  missing: number;
  /** Stored full tiles narrower than they should be (tiles lagging their records). */
  lagging: number;
  /** Consistency proofs between consecutive checkpoints rebuilt from stored tiles and verified. */
  proofs: number;
  /** Consistency proofs that could not be rebuilt because a tile was missing. */
  proofsUnavailable: number;
}

/** Tiles compared per readTiles call: 64 level-0 tiles are 16,384 records and 512 KiB. */
const BATCH = 64;

export interface TileChecker {
  /** Adds the next verified leaf hash (32 bytes; copied). */
  append(leafHash: Uint8Array): void;
  /** Merkle root (MTH) of the leaves so far, from the rebuilt tiles (no second tree needed). */
  root(): Buffer;
  /** True when enough full tiles wait to be compared. */
  readonly due: boolean;
  /**
   * Compares every tile changed since the last call (full tiles, and the partial ones as they
   * stand) with the stored versions. `final`: the end of the log, so missing partial tiles count.
   * Resolves with a tile_mismatch naming the first leaf of the lowest bad tile.
   */
  compare(final: boolean): Promise<VerifyFailure | undefined>;
  /** Rebuilds the consistency proof between two checkpoints whose roots matched from the stored tiles and checks it. */
  proveConsistency(older: Checkpoint, newer: Checkpoint): Promise<VerifyFailure | undefined>;
  summary(): TileCheckSummary;
}

/** First leaf covered by a tile: tile index × 256^(level + 1). */
export function firstLeafOfTile(id: TileId): number {
  return id.index * 2 ** (TILE_HEIGHT * (id.level + 1));
}

function leavesOfTile(tile: Tile): string {
  const first = firstLeafOfTile(tile);
  const span = (tile.hashes.length / 32) * 2 ** (TILE_HEIGHT * tile.level);
  return `records ${first}…${first + span - 1}`;
}

export function createTileChecker(readTiles: ReadTiles): TileChecker {
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  const one: Uint8Array[] = [new Uint8Array(0)];
  const stats: TileCheckSummary = { compared: 0, missing: 0, lagging: 0, proofs: 0, proofsUnavailable: 0 };
  // The latest finding about each tile level's partial tile, counted once at the end of the log.
  const partialState = new Map<string, 'ok' | 'missing' | 'lagging'>();
  let fullSinceCompare = 0;
  let lastSize = 0;

  const compareBatch = async (computed: readonly Tile[]): Promise<VerifyFailure | undefined> => {
    const stored = await readTiles(computed.map(({ level, index }) => ({ level, index })));
    const byKey = new Map<string, Tile>();
    for (const t of stored) {
      const key = `${t.level}/${t.index}`;
      const known = byKey.get(key);
      if (known === undefined || t.hashes.length > known.hashes.length) byKey.set(key, t);
    }
    let worst: VerifyFailure | undefined;
    for (const tile of computed) {
      const full = tile.hashes.length === TILE_WIDTH * 32;
      const key = `${tile.level}/${tile.index}`;
      // A partial tile's earlier finding is superseded by this comparison.
      partialState.delete(key);
      const found = byKey.get(key);
      if (found === undefined) {
        if (full) stats.missing += 1;
        else partialState.set(key, 'missing');
        continue;
      }
      stats.compared += 1;
      // Stored tiles may be wider (the log grew, or its tail was cut) or narrower (tiles lag).
      const common = Math.min(found.hashes.length, tile.hashes.length);
      const lags = found.hashes.length < tile.hashes.length;
      if (full) stats.lagging += lags ? 1 : 0;
      else partialState.set(key, lags ? 'lagging' : 'ok');
      if (found.hashes.subarray(0, common).equals(tile.hashes.subarray(0, common))) continue;
      const index = firstLeafOfTile(tile);
      if (worst === undefined || index < worst.index) {
        worst = {
          index,
          kind: 'tile_mismatch',
          message:
            `the stored Merkle tile at level ${tile.level}, index ${tile.index} (${leavesOfTile(tile)}) disagrees ` +
            `with the tree recomputed from the records from index ${index} on: the proof data was changed`,
        };
      }
    }
    return worst;
  };

  return {
    append(leafHash) {
      one[0] = leafHash;
      builder.append(one);
      lastSize += 1;
      if (lastSize % TILE_WIDTH === 0) fullSinceCompare += 1;
    },
    root() {
      return builder.root();
    },
    get due() {
      return fullSinceCompare >= BATCH;
    },
    async compare(final) {
      fullSinceCompare = 0;
      const changed = builder.takeChanged();
      let worst: VerifyFailure | undefined;
      for (let i = 0; i < changed.length; i += BATCH) {
        const found = await compareBatch(changed.slice(i, i + BATCH));
        if (found !== undefined && (worst === undefined || found.index < worst.index)) worst = found;
      }
      if (final) {
        for (const state of partialState.values()) {
          if (state === 'missing') stats.missing += 1;
          if (state === 'lagging') stats.lagging += 1;
        }
        partialState.clear();
      }
      return worst;
    },
    async proveConsistency(older, newer) {
      if (older.size === 0 || older.size >= newer.size) return undefined;
      let proof: Buffer[];
      try {
        proof = await consistencyProof(older.size, newer.size, createTileNodeReader(readTiles, newer.size));
      } catch (error) {
        if (!isLedgerError(error, 'LEDGER_TILES_MISSING')) throw error;
        stats.proofsUnavailable += 1;
        return undefined;
      }
      const check = verifyConsistency({
        size1: older.size,
        size2: newer.size,
        root1: older.root,
        root2: newer.root,
        proof,
      });
      if (check.ok) {
        stats.proofs += 1;
        return undefined;
      }
      return {
        index: older.size,
        kind: 'tile_mismatch',
        message: `the consistency proof between the checkpoints of sizes ${older.size} and ${newer.size}, rebuilt from the stored Merkle tiles, does not verify (${check.reason}): tiles covering records from ${older.size} on were changed`,
      };
    },
    summary() {
      return { ...stats };
    },
  };
}
