import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLedgerError } from './errors.js';
import { rootOfLeafHashes, type NodeId } from './merkle.js';
import { inclusionProof, verifyInclusion } from './proofs.js';
import {
  TILE_WIDTH,
  createTileBuilder,
  createTileNodeReader,
  rightEdgeTiles,
  tileWidth,
  tilesForNodes,
  type Tile,
  type TileBuilder,
  type TileId,
} from './tiles.js';

const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const ALL = Array.from({ length: 70_000 }, (_, i) => sha256(Buffer.from([0]), Buffer.from(`leaf ${i}`)));

const key = (id: TileId): string => `${id.level}/${id.index}`;
const describeTile = (t: Tile): string => `${key(t)}:${tileWidth(t)}`;

/** Upserts like the stores: per tile the widest version wins. */
function putTiles(store: Map<string, Tile>, tiles: readonly Tile[]): void {
  for (const tile of tiles) {
    const known = store.get(key(tile));
    if (known === undefined || known.hashes.length <= tile.hashes.length) store.set(key(tile), tile);
  }
}

function feed(builder: TileBuilder, store: Map<string, Tile>, end: number, batches: readonly number[]): void {
  for (let b = 0; builder.size < end; b++) {
    const from = builder.size;
    builder.append(ALL.slice(from, Math.min(end, from + batches[b % batches.length]!)));
    putTiles(store, builder.takeChanged());
  }
}

function expectCode(fn: () => unknown, code: string): LedgerErrorLike {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isLedgerError(thrown), String(thrown)).toBe(true);
  expect((thrown as LedgerErrorLike).code).toBe(code);
  return thrown as LedgerErrorLike;
}
interface LedgerErrorLike {
  code: string;
  message: string;
}

describe('rightEdgeTiles', () => {
  it('names one tile per non-zero base-256 digit of the size', () => {
    expect(rightEdgeTiles(0)).toEqual([]);
    expect(rightEdgeTiles(1)).toEqual([{ level: 0, index: 0, width: 1 }]);
    expect(rightEdgeTiles(255)).toEqual([{ level: 0, index: 0, width: 255 }]);
    // Leaf 255 completes tile 0/0, whose summary is node 0 of tile level 1.
    expect(rightEdgeTiles(256)).toEqual([{ level: 1, index: 0, width: 1 }]);
    expect(rightEdgeTiles(257)).toEqual([
      { level: 0, index: 1, width: 1 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(rightEdgeTiles(65_536 + 3 * 256 + 5)).toEqual([
      { level: 0, index: 259, width: 5 },
      { level: 1, index: 1, width: 3 },
      { level: 2, index: 0, width: 1 },
    ]);
  });

  it('is exact beyond 2^32', () => {
    expect(rightEdgeTiles(2 ** 32 + 1)).toEqual([
      { level: 0, index: 2 ** 24, width: 1 },
      { level: 4, index: 0, width: 1 },
    ]);
    expect(rightEdgeTiles(Number.MAX_SAFE_INTEGER)).toHaveLength(7);
  });
});

describe('createTileBuilder', () => {
  it('produces the MTH at every size and tiles holding tree-level-8L nodes', () => {
    const builder = createTileBuilder({ size: 0, rightEdge: [] });
    const store = new Map<string, Tile>();
    for (let n = 1; n <= 1100; n++) {
      builder.append([ALL[n - 1]!]);
      putTiles(store, builder.takeChanged());
      if (n < 20 || n % 97 === 0 || n % 256 <= 1) expect(builder.root()).toEqual(rootOfLeafHashes(ALL.slice(0, n)));
    }
    expect(builder.size).toBe(1100);
    expect([...store.values()].map(describeTile).sort()).toEqual([
      '0/0:256',
      '0/1:256',
      '0/2:256',
      '0/3:256',
      '0/4:76',
      '1/0:4',
    ]);
    expect(store.get('0/2')!.hashes).toEqual(Buffer.concat(ALL.slice(512, 768)));
    const level1 = store.get('1/0')!.hashes;
    for (let i = 0; i < 4; i++) {
      expect(level1.subarray(i * 32, i * 32 + 32)).toEqual(rootOfLeafHashes(ALL.slice(i * 256, i * 256 + 256)));
    }
  });

  it('takeChanged returns each full tile once and only the partial tiles that changed', () => {
    const builder = createTileBuilder({ size: 0, rightEdge: [] });
    expect(builder.takeChanged()).toEqual([]);
    builder.append(ALL.slice(0, 300));
    expect(builder.takeChanged().map(describeTile)).toEqual(['0/0:256', '0/1:44', '1/0:1']);
    expect(builder.takeChanged()).toEqual([]);
    builder.append(ALL.slice(300, 301));
    expect(builder.takeChanged().map(describeTile)).toEqual(['0/1:45']);
    builder.append(ALL.slice(301, 512));
    // Tile 0/1 fills exactly: it comes back full, and no empty partial tile is reported.
    expect(builder.takeChanged().map(describeTile)).toEqual(['0/1:256', '1/0:2']);
    builder.append([]);
    expect(builder.takeChanged()).toEqual([]);
  });

  it('returns copies the caller may keep', () => {
    const builder = createTileBuilder({ size: 0, rightEdge: [] });
    builder.append(ALL.slice(0, 3));
    const [tile] = builder.takeChanged();
    builder.append(ALL.slice(3, 4));
    expect(tile!.hashes).toEqual(Buffer.concat(ALL.slice(0, 3)));
  });

  it('resumed from its own stored right edge gives the same tiles and roots as one builder', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 5 }),
        (a, b, batches) => {
          const [split, end] = a <= b ? [a, b] : [b, a];
          const once = new Map<string, Tile>();
          const whole = createTileBuilder({ size: 0, rightEdge: [] });
          feed(whole, once, end, batches);

          const resumedStore = new Map<string, Tile>();
          const first = createTileBuilder({ size: 0, rightEdge: [] });
          feed(first, resumedStore, split, [...batches].reverse());
          const rightEdge = rightEdgeTiles(split).map(({ level, index }) => resumedStore.get(key({ level, index }))!);
          const resumed = createTileBuilder({ size: split, rightEdge });
          expect(resumed.size).toBe(split);
          expect(resumed.root()).toEqual(first.root());
          feed(resumed, resumedStore, end, batches);

          expect(resumed.root()).toEqual(whole.root());
          expect([...resumedStore.keys()].sort()).toEqual([...once.keys()].sort());
          for (const [k, tile] of once) expect(resumedStore.get(k)!.hashes.equals(tile.hashes), k).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
    // And at the tile boundaries, checked against the reference root.
    for (const split of [255, 256, 257, 65_535, 65_536, 65_537]) {
      const store = new Map<string, Tile>();
      feed(createTileBuilder({ size: 0, rightEdge: [] }), store, split, [1000]);
      const rightEdge = rightEdgeTiles(split).map((id) => store.get(key(id))!);
      const resumed = createTileBuilder({ size: split, rightEdge });
      resumed.append(ALL.slice(split, split + 300));
      expect(resumed.root()).toEqual(rootOfLeafHashes(ALL.slice(0, split + 300)));
    }
  });

  it('cuts wider stored tiles and rejects missing or too narrow ones', () => {
    const store = new Map<string, Tile>();
    feed(createTileBuilder({ size: 0, rightEdge: [] }), store, 600, [600]);
    // Continue at 300 from tiles stored for 600 (0/1 has width 88, the builder needs 44).
    const resumed = createTileBuilder({ size: 300, rightEdge: [...store.values()] });
    expect(resumed.root()).toEqual(rootOfLeafHashes(ALL.slice(0, 300)));

    // Given several versions of one tile, the widest is used.
    const stale = { level: 0, index: 1, hashes: store.get('0/1')!.hashes.subarray(0, 32 * 10) };
    const mixed = createTileBuilder({ size: 300, rightEdge: [stale, ...store.values()] });
    expect(mixed.root()).toEqual(rootOfLeafHashes(ALL.slice(0, 300)));

    const missing = expectCode(
      () => createTileBuilder({ size: 300, rightEdge: [store.get('0/1')!] }),
      'LEDGER_INVALID_INPUT',
    );
    expect(missing.message).toMatch(/level 1 index 0/);
    const narrow = { level: 0, index: 1, hashes: store.get('0/1')!.hashes.subarray(0, 32 * 10) };
    const tooNarrow = expectCode(
      () => createTileBuilder({ size: 300, rightEdge: [narrow, store.get('1/0')!] }),
      'LEDGER_INVALID_INPUT',
    );
    expect(tooNarrow.message).toMatch(/level 0 index 1 of width 44.*width 10/);
    expectCode(() => createTileBuilder({ size: -1, rightEdge: [] }), 'LEDGER_INVALID_INPUT');
  });
});

describe('tilesForNodes', () => {
  it('reads level-8L nodes directly and others from the hashes below them', () => {
    const nodes: NodeId[] = [
      { level: 8, index: 3 }, // tile 1/0, hash 3
      { level: 3, index: 33 }, // tile 0/1, hashes 8..15
      { level: 0, index: 257 }, // tile 0/1, hash 1
      { level: 16, index: 0 }, // tile 2/0, hash 0
    ];
    expect(tilesForNodes(nodes, 2 ** 16 + 5)).toEqual([
      { level: 1, index: 0, width: 4 },
      { level: 0, index: 1, width: 16 },
      { level: 2, index: 0, width: 1 },
    ]);
  });

  it('rejects nodes that are not complete in the tree', () => {
    expectCode(() => tilesForNodes([{ level: 3, index: 1 }], 15), 'LEDGER_INVALID_INPUT');
    expectCode(() => tilesForNodes([{ level: 0, index: -1 }], 15), 'LEDGER_INVALID_INPUT');
  });
});

describe('createTileNodeReader', () => {
  const store = new Map<string, Tile>();
  feed(createTileBuilder({ size: 0, rightEdge: [] }), store, 70_000, [4096]);

  it('serves proofs with one readTiles call per read, from tiles wider than needed', async () => {
    const calls: TileId[][] = [];
    const reader = createTileNodeReader((ids) => {
      calls.push([...ids]);
      return Promise.resolve(ids.flatMap((id) => store.get(key(id)) ?? []));
    }, 66_000);
    const proof = await inclusionProof(65_999, 66_000, reader);
    expect(calls).toHaveLength(1);
    expect(new Set(calls[0]!.map(key)).size).toBe(calls[0]!.length);
    const root = rootOfLeafHashes(ALL.slice(0, 66_000));
    expect(verifyInclusion({ index: 65_999, size: 66_000, leafHash: ALL[65_999]!, proof, root })).toEqual({ ok: true });
  });

  it('rejects with LEDGER_TILES_MISSING naming the absent or too narrow tile', async () => {
    const without = (drop: string, narrowTo?: number) => (ids: readonly TileId[]) =>
      Promise.resolve(
        ids.flatMap((id): Tile[] => {
          const tile = store.get(key(id));
          if (tile === undefined) return [];
          if (key(id) !== drop) return [tile];
          return narrowTo === undefined ? [] : [{ ...tile, hashes: tile.hashes.subarray(0, narrowTo * 32) }];
        }),
      );
    const absent = await inclusionProof(5, 66_000, createTileNodeReader(without('1/0'), 66_000)).catch(
      (e: unknown) => e,
    );
    expect(isLedgerError(absent, 'LEDGER_TILES_MISSING')).toBe(true);
    expect((absent as Error).message).toMatch(/tile level 1 index 0 of width 256; it is not stored/);

    // Leaf 65 999 needs its sibling 65 998: hash 206 of tile 0/257, so width 207.
    const narrow = await inclusionProof(65_999, 66_000, createTileNodeReader(without('0/257', 3), 66_000)).catch(
      (e: unknown) => e,
    );
    expect(isLedgerError(narrow, 'LEDGER_TILES_MISSING')).toBe(true);
    expect((narrow as Error).message).toMatch(/tile level 0 index 257 of width 207; the stored one has width 3/);
  });

  it('a tree larger than the stored tiles is reported as missing tiles', async () => {
    const partial = new Map<string, Tile>();
    feed(createTileBuilder({ size: 0, rightEdge: [] }), partial, 1000, [1000]);
    const reader = createTileNodeReader(
      (ids) => Promise.resolve(ids.flatMap((id) => partial.get(key(id)) ?? [])),
      1200,
    );
    const err = await inclusionProof(1100, 1200, reader).catch((e: unknown) => e);
    expect(isLedgerError(err, 'LEDGER_TILES_MISSING')).toBe(true);
    expect(TILE_WIDTH).toBe(256);
  });
});
