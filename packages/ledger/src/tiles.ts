/**
 * Merkle tiles: how the stores keep a log's tree so that any proof is computed without
 * scanning the log (docs/ledger-format.md, "Proof storage"). The layout is C2SP tlog-tiles
 * with height 8: the tile at tile level L and index N holds the hashes of the tree nodes at
 * level 8·L with indices 256·N … 256·N + width − 1 (width 1…256). A tile of width 256 is full
 * and never changes; the rightmost tile of each tile level is partial and grows. Tile level 0
 * holds the leaf hashes.
 */
import type { NodeId } from './merkle.js';
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

/**
 * The tiles (with the width each must have) that hold the right edge of a tree of `size`
 * leaves: for each tile level L with floor(size / 256^L) > 0, the tile holding node
 * floor(size / 256^L) − 1 of tree level 8L — unless that node completes a full tile whose
 * summary already appears one level up (then the level's rightmost partial tile, if any).
 * These are exactly the tiles a TileBuilder continuing at `size` needs. Empty for size 0.
 */
export function rightEdgeTiles(size: number): (TileId & { width: number })[] {
  void size;
  throw new Error('not implemented');
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
 * Creates a tile builder continuing a tree of `size` leaves. `rightEdge` must hold the tiles
 * rightEdgeTiles(size) names, each at least as wide as named (a wider stored tile is cut to
 * the width named). Throws LEDGER_INVALID_INPUT when a tile is missing or too narrow.
 */
export function createTileBuilder(options: { size: number; rightEdge: readonly Tile[] }): TileBuilder {
  void options;
  throw new Error('not implemented');
}

/**
 * The tiles (and the minimum width of each) needed to read `nodes` of a tree of `size` leaves.
 * A node at tree level h is read from tile level floor(h / 8): directly when h is a multiple of
 * 8, otherwise as the subtree root over the 2^(h mod 8) hashes below it in that tile.
 */
export function tilesForNodes(nodes: readonly NodeId[], size: number): (TileId & { width: number })[] {
  void nodes;
  void size;
  throw new Error('not implemented');
}

/**
 * A ReadNodes over stored tiles for a tree of `size` leaves: one `readTiles` call per
 * ReadNodes call (tiles may be wider than needed: the tree only grows). Rejects with
 * LEDGER_TILES_MISSING naming the tile when a needed tile is absent or too narrow (tiles not
 * yet written for that size).
 */
export function createTileNodeReader(readTiles: (ids: readonly TileId[]) => Promise<Tile[]>, size: number): ReadNodes {
  void readTiles;
  void size;
  throw new Error('not implemented');
}
