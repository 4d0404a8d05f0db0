/**
 * Merkle tiles: how the stores keep a log's tree so that any proof is computed without
 * scanning the log (docs/ledger-format.md, "Proof storage"). The layout is C2SP tlog-tiles
 * with height 8: the tile at tile level L and index N holds the hashes of the tree nodes at
 * level 8·L with indices 256·N … 256·N + width − 1 (width 1…256). A tile of width 256 is full
 * and never changes; the rightmost tile of each tile level is partial and grows. Tile level 0
 * holds the leaf hashes.
 */
import { LedgerError } from './errors.js';
import type { NodeId } from './merkle.js';
import { HASH_BYTES, emptyRoot, hashChildren, perfectNodesOf } from './merkle.js';
import type { ReadNodes } from './proofs.js';

export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2^TILE_HEIGHT). */
export const TILE_WIDTH = 256;

/** A tile's position. `level` is the tile level (tree level 8·level). */
export interface TileId {
  level: number;
  index: number;
}

/** A tile and its contents: `hashes` is width × 32 bytes, the node hashes left to right. */
export interface Tile extends TileId {
  hashes: Buffer;
}

/** Number of hashes in a tile (hashes.length / 32). */
export function tileWidth(tile: Tile): number {
  return tile.hashes.length / 32;
}

/** 256^level as a double (exact: a power of two). */
const tileSpan = (level: number): number => 2 ** (TILE_HEIGHT * level);

function assertSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new LedgerError('LEDGER_INVALID_INPUT', 'a tree size must be an integer between 0 and 2^53 − 1');
  }
}

/**
 * The tiles (with the width each must have) that hold the right edge of a tree of `size`
 * leaves: for each tile level L with floor(size / 256^L) > 0, the tile holding node
 * floor(size / 256^L) − 1 of tree level 8L — unless that node completes a full tile whose
 * summary already appears one level up (then the level's rightmost partial tile, if any).
 * These are exactly the tiles a TileBuilder continuing at `size` needs. Empty for size 0.
 *
 * Equivalently: one tile per non-zero base-256 digit d_L of size, at index
 * floor(size / 256^(L+1)) and of width d_L.
 */
export function rightEdgeTiles(size: number): (TileId & { width: number })[] {
  assertSize(size);
  const tiles: (TileId & { width: number })[] = [];
  for (let level = 0; Math.floor(size / tileSpan(level)) > 0; level++) {
    const nodes = Math.floor(size / tileSpan(level));
    const width = nodes % TILE_WIDTH;
    if (width > 0) tiles.push({ level, index: Math.floor(nodes / TILE_WIDTH), width });
  }
  return tiles;
}

/**
 * Builds a log's tiles incrementally as leaf hashes are appended. Memory is one partial tile
 * per tile level (≤ 8 KiB each).
 */
export interface TileBuilder {
  /** Leaves so far. */
  readonly size: number;
  /** Appends leaf hashes (32 bytes each). */
  append(leafHashes: readonly Uint8Array[]): void;
  /**
   * The tiles changed since the last call (each with its complete current contents: a full
   * tile once, then the partial tiles as they now stand), for the store to upsert.
   */
  takeChanged(): Tile[];
  /** Merkle root (MTH) of the leaves so far. */
  root(): Buffer;
}

/**
 * MTH of the `count` (a power of two) consecutive hashes of `hashes` starting at hash `first`:
 * the root of the perfect subtree they form.
 */
function perfectRoot(hashes: Buffer, first: number, count: number): Buffer {
  if (count === 1) return Buffer.from(hashes.subarray(first * HASH_BYTES, (first + 1) * HASH_BYTES));
  const halfCount = count / 2;
  return hashChildren(perfectRoot(hashes, first, halfCount), perfectRoot(hashes, first + halfCount, halfCount));
}

/** The partial (rightmost, not yet full) tile of one tile level. */
interface PartialTile {
  /** Tile index; every tile before it at this level is full. */
  index: number;
  /** Hashes so far. */
  width: number;
  hashes: Buffer;
  changed: boolean;
}

/**
 * Creates a tile builder continuing a tree of `size` leaves. `rightEdge` must hold the tiles
 * rightEdgeTiles(size) names, each at least as wide as named (a wider stored tile is cut to
 * the width named). Throws LEDGER_INVALID_INPUT when a tile is missing or too narrow.
 *
 * Full tiles are kept until the next takeChanged(): call it after each batch.
 */
export function createTileBuilder(options: { size: number; rightEdge: readonly Tile[] }): TileBuilder {
  const { size: startSize, rightEdge } = options;
  assertSize(startSize);
  const partials: PartialTile[] = [];
  const levelOf = (level: number): PartialTile => {
    let partial = partials[level];
    if (partial === undefined) {
      // A level's first tile starts only when the level below fills a tile: index 0.
      partial = { index: 0, width: 0, hashes: Buffer.alloc(TILE_WIDTH * HASH_BYTES), changed: false };
      partials[level] = partial;
    }
    return partial;
  };
  for (let level = 0; Math.floor(startSize / tileSpan(level)) > 0; level++) {
    const partial = levelOf(level);
    partial.index = Math.floor(startSize / tileSpan(level + 1));
  }
  for (const need of rightEdgeTiles(startSize)) {
    // Several versions of one tile may be given: the widest holds the most.
    const tile = rightEdge
      .filter((t) => t.level === need.level && t.index === need.index)
      .reduce<Tile | undefined>(
        (widest, t) => (widest === undefined || t.hashes.length > widest.hashes.length ? t : widest),
        undefined,
      );
    if (tile === undefined || tile.hashes.length < need.width * HASH_BYTES) {
      throw new LedgerError(
        'LEDGER_INVALID_INPUT',
        `continuing a tree of ${startSize} leaves needs tile level ${need.level} index ${need.index} ` +
          `of width ${need.width} or more; ${tile === undefined ? 'it is missing' : `it has width ${tileWidth(tile)}`}`,
      );
    }
    const partial = levelOf(need.level);
    tile.hashes.copy(partial.hashes, 0, 0, need.width * HASH_BYTES);
    partial.width = need.width;
  }

  let size = startSize;
  let full: Tile[] = [];

  const push = (level: number, node: Uint8Array): void => {
    const partial = levelOf(level);
    partial.hashes.set(node, partial.width * HASH_BYTES);
    partial.width += 1;
    partial.changed = true;
    if (partial.width < TILE_WIDTH) return;
    // A full tile never changes again: hand it out once and summarise it one level up.
    full.push({ level, index: partial.index, hashes: Buffer.from(partial.hashes) });
    const summary = perfectRoot(partial.hashes, 0, TILE_WIDTH);
    partial.index += 1;
    partial.width = 0;
    partial.changed = false;
    push(level + 1, summary);
  };

  return {
    get size() {
      return size;
    },
    append(leafHashes) {
      for (const leafHash of leafHashes) {
        if (leafHash.length !== HASH_BYTES) {
          throw new LedgerError('LEDGER_INVALID_INPUT', 'leaf hashes must be 32 bytes');
        }
      }
      if (size + leafHashes.length > Number.MAX_SAFE_INTEGER) {
        throw new LedgerError('LEDGER_INVALID_INPUT', 'the tree cannot exceed 2^53 − 1 leaves');
      }
      for (const leafHash of leafHashes) {
        push(0, leafHash);
        size += 1;
      }
    },
    takeChanged() {
      const changed = full;
      full = [];
      for (const [level, partial] of partials.entries()) {
        if (!partial.changed || partial.width === 0) continue;
        changed.push({
          level,
          index: partial.index,
          hashes: Buffer.from(partial.hashes.subarray(0, partial.width * HASH_BYTES)),
        });
        partial.changed = false;
      }
      return changed;
    },
    root() {
      // The peaks of [0, size) are, from the highest tile level down, the perfect subtrees of
      // each partial tile's contents (its width is that level's base-256 digit of size).
      const peaks: Buffer[] = [];
      for (let level = partials.length - 1; level >= 0; level--) {
        const partial = partials[level];
        if (partial === undefined || partial.width === 0) continue;
        for (const node of perfectNodesOf(0, partial.width)) {
          const count = 2 ** node.level;
          peaks.push(perfectRoot(partial.hashes, node.index * count, count));
        }
      }
      const last = peaks.pop();
      if (last === undefined) return emptyRoot();
      let acc = last;
      for (let i = peaks.length - 1; i >= 0; i--) acc = hashChildren(peaks[i]!, acc);
      return acc;
    },
  };
}

/** Where a node is read from: a tile, and the hashes of that tile under the node. */
interface NodeLocation {
  tile: TileId;
  /** First hash in the tile. */
  first: number;
  /** Hashes under the node (2^(level mod 8)). */
  count: number;
}

function locate(node: NodeId, size: number): NodeLocation {
  const { level, index } = node;
  if (!Number.isSafeInteger(level) || level < 0 || !Number.isSafeInteger(index) || index < 0) {
    throw new LedgerError('LEDGER_INVALID_INPUT', 'a node id needs a non-negative integer level and index');
  }
  // Every leaf under the node must be in the tree (products of powers of two stay exact).
  if ((index + 1) * 2 ** level > size) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `node ${index} of level ${level} is not in a tree of ${size} leaves`);
  }
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const count = 2 ** (level % TILE_HEIGHT);
  const start = index * count; // first hash at tree level 8·tileLevel
  const tileIndex = Math.floor(start / TILE_WIDTH);
  return { tile: { level: tileLevel, index: tileIndex }, first: start - tileIndex * TILE_WIDTH, count };
}

const tileKey = (id: TileId): string => `${id.level}/${id.index}`;

/**
 * The tiles (and the minimum width of each) needed to read `nodes` of a tree of `size` leaves.
 * A node at tree level h is read from tile level floor(h / 8): directly when h is a multiple of
 * 8, otherwise as the subtree root over the 2^(h mod 8) hashes below it in that tile.
 * Throws LEDGER_INVALID_INPUT for a node that is not a complete subtree of the tree.
 */
export function tilesForNodes(nodes: readonly NodeId[], size: number): (TileId & { width: number })[] {
  assertSize(size);
  const byKey = new Map<string, TileId & { width: number }>();
  for (const node of nodes) {
    const { tile, first, count } = locate(node, size);
    const key = tileKey(tile);
    const known = byKey.get(key);
    const width = first + count;
    if (known === undefined) byKey.set(key, { ...tile, width });
    else known.width = Math.max(known.width, width);
  }
  return [...byKey.values()];
}

/**
 * A ReadNodes over stored tiles for a tree of `size` leaves: one `readTiles` call per
 * ReadNodes call (tiles may be wider than needed: the tree only grows). Rejects with
 * LEDGER_TILES_MISSING naming the tile when a needed tile is absent or too narrow (tiles not
 * yet written for that size).
 */
export function createTileNodeReader(readTiles: (ids: readonly TileId[]) => Promise<Tile[]>, size: number): ReadNodes {
  assertSize(size);
  return async (ids) => {
    if (ids.length === 0) return [];
    const needs = tilesForNodes(ids, size);
    const tiles = await readTiles(needs.map(({ level, index }) => ({ level, index })));
    const byKey = new Map<string, Tile>();
    for (const tile of tiles) {
      const key = tileKey(tile);
      const known = byKey.get(key);
      if (known === undefined || tile.hashes.length > known.hashes.length) byKey.set(key, tile);
    }
    for (const need of needs) {
      const tile = byKey.get(tileKey(need));
      if (tile === undefined || tile.hashes.length < need.width * HASH_BYTES) {
        throw new LedgerError(
          'LEDGER_TILES_MISSING',
          `a proof for tree size ${size} needs tile level ${need.level} index ${need.index} of width ${need.width}; ` +
            (tile === undefined ? 'it is not stored' : `the stored one has width ${Math.floor(tileWidth(tile))}`),
        );
      }
    }
    return ids.map((node) => {
      const { tile, first, count } = locate(node, size);
      return perfectRoot(byKey.get(tileKey(tile))!.hashes, first, count);
    });
  };
}
