import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldRange, hashChildren, perfectNodesOf, rootOfLeafHashes, type NodeId } from './merkle.js';
import {
  consistencyProof,
  consistencyProofRanges,
  inclusionProof,
  inclusionProofRanges,
  verifyConsistency,
  verifyInclusion,
  type LeafRange,
  type ReadNodes,
} from './proofs.js';
import { createTileBuilder, createTileNodeReader, type Tile, type TileId } from './tiles.js';

const MAX_LEAVES = 3000;
const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const ALL = Array.from({ length: MAX_LEAVES }, (_, i) => sha256(Buffer.from([0]), Buffer.from(`leaf ${i}`)));

// Reference roots, computed once per size on demand.
const roots = new Map<number, Buffer>();
function rootOf(size: number): Buffer {
  let root = roots.get(size);
  if (root === undefined) {
    root = rootOfLeafHashes(ALL.slice(0, size));
    roots.set(size, root);
  }
  return root;
}

/** Node hashes straight from the leaf array. */
const memoryNodes: ReadNodes = (ids) =>
  Promise.resolve(ids.map((n) => rootOfLeafHashes(ALL.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level))));

/**
 * Node hashes from tiles a TileBuilder produced for all leaves, fed in random batch sizes and
 * stored like the stores do (per tile, the widest version wins).
 */
function buildTileStore(batches: readonly number[]): Map<string, Tile> {
  const store = new Map<string, Tile>();
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  let next = 0;
  for (let b = 0; next < MAX_LEAVES; b++) {
    const take = Math.min(batches[b % batches.length]!, MAX_LEAVES - next);
    builder.append(ALL.slice(next, next + take));
    next += take;
    for (const tile of builder.takeChanged()) {
      const key = `${tile.level}/${tile.index}`;
      const known = store.get(key);
      if (known === undefined || known.hashes.length <= tile.hashes.length) store.set(key, tile);
    }
  }
  return store;
}
const readTilesFrom =
  (store: Map<string, Tile>) =>
  (ids: readonly TileId[]): Promise<Tile[]> =>
    Promise.resolve(ids.flatMap((id) => store.get(`${id.level}/${id.index}`) ?? []));

const tileStores = [buildTileStore([1]), buildTileStore([7, 300, 1, 256]), buildTileStore([1000])];

const sizeArb = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: MAX_LEAVES }));
const inclusionArb = sizeArb.chain((size) => fc.tuple(fc.nat({ max: size - 1 }), fc.constant(size)));
const consistencyArb = sizeArb.chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));
const sourceArb = fc.nat({ max: tileStores.length });

function sourceFor(choice: number, size: number): ReadNodes {
  const store = tileStores[choice];
  return store === undefined ? memoryNodes : createTileNodeReader(readTilesFrom(store), size);
}

const flipBit = (h: Uint8Array, bit: number): Buffer => {
  const copy = Buffer.from(h);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

/** Every way we tamper with a list of proof hashes; each result must be rejected. */
function mutatedProofs(proof: readonly Buffer[], bit: number, extra: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i < proof.length; i++) {
    out.push(proof.map((h, j) => (j === i ? flipBit(h, bit) : h)));
    out.push(proof.filter((_, j) => j !== i));
    for (let j = i + 1; j < proof.length; j++) {
      if (proof[i]!.equals(proof[j]!)) continue;
      const swapped = [...proof];
      [swapped[i], swapped[j]] = [proof[j]!, proof[i]!];
      out.push(swapped);
    }
  }
  for (let at = 0; at <= proof.length; at++) out.push([...proof.slice(0, at), extra, ...proof.slice(at)]);
  return out;
}

describe('inclusion proofs (property)', () => {
  it('verify against rootOfLeafHashes from memory and from tiles; every mutation fails', async () => {
    await fc.assert(
      fc.asyncProperty(inclusionArb, sourceArb, fc.nat({ max: 255 }), async ([index, size], source, bit) => {
        const proof = await inclusionProof(index, size, sourceFor(source, size));
        const root = rootOf(size);
        const leafHash = ALL[index]!;
        expect(verifyInclusion({ index, size, leafHash, proof, root })).toEqual({ ok: true });

        for (const mutated of mutatedProofs(proof, bit, ALL[(index + 1) % MAX_LEAVES]!)) {
          expect(verifyInclusion({ index, size, leafHash, proof: mutated, root }).ok).toBe(false);
        }
        expect(verifyInclusion({ index, size, leafHash: flipBit(leafHash, bit), proof, root }).ok).toBe(false);
        expect(verifyInclusion({ index, size, leafHash, proof, root: flipBit(root, bit) }).ok).toBe(false);
        if (size > 1) {
          const other = (index + 1) % size;
          expect(verifyInclusion({ index: other, size, leafHash, proof, root }).ok).toBe(false);
          expect(verifyInclusion({ index: other, size, leafHash: ALL[other]!, proof, root }).ok).toBe(false);
        }
        // The root commits to the size only through a checkpoint, so a wrong size is checked
        // against that size's own root.
        for (const wrongSize of [size - 1, size + 1]) {
          if (wrongSize <= index || wrongSize > MAX_LEAVES) continue;
          expect(verifyInclusion({ index, size: wrongSize, leafHash, proof, root: rootOf(wrongSize) }).ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('consistency proofs (property)', () => {
  it('verify against rootOfLeafHashes from memory and from tiles; every mutation fails', async () => {
    await fc.assert(
      fc.asyncProperty(consistencyArb, sourceArb, fc.nat({ max: 255 }), async ([size1, size2], source, bit) => {
        const proof = await consistencyProof(size1, size2, sourceFor(source, size2));
        const root1 = rootOf(size1);
        const root2 = rootOf(size2);
        expect(verifyConsistency({ size1, size2, root1, root2, proof })).toEqual({ ok: true });

        for (const mutated of mutatedProofs(proof, bit, ALL[size1 - 1]!)) {
          expect(verifyConsistency({ size1, size2, root1, root2, proof: mutated }).ok).toBe(false);
        }
        expect(verifyConsistency({ size1, size2, root1: flipBit(root1, bit), root2, proof }).ok).toBe(false);
        expect(verifyConsistency({ size1, size2, root1, root2: flipBit(root2, bit), proof }).ok).toBe(false);
        if (size1 !== size2) {
          expect(verifyConsistency({ size1, size2, root1: root2, root2: root1, proof }).ok).toBe(false);
        }
        for (const [s1, s2] of [
          [size1 - 1, size2],
          [size1 + 1, size2],
          [size1, size2 - 1],
          [size1, size2 + 1],
        ] as const) {
          if (s1 < 1 || s1 > s2 || s2 > MAX_LEAVES) continue;
          expect(verifyConsistency({ size1: s1, size2: s2, root1: rootOf(s1), root2: rootOf(s2), proof }).ok).toBe(
            false,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

// Straight transcriptions of the RFC 9162 recursions, to check the iterative versions.
function pathReference(m: number, lo: number, hi: number): LeafRange[] {
  if (hi - lo <= 1) return [];
  let k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return m < k ? [...pathReference(m, lo, lo + k), [lo + k, hi]] : [...pathReference(m - k, lo + k, hi), [lo, lo + k]];
}
function subproofReference(m: number, lo: number, hi: number, b: boolean): LeafRange[] {
  if (m === hi - lo) return b ? [] : [[lo, hi]];
  let k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return m <= k
    ? [...subproofReference(m, lo, lo + k, b), [lo + k, hi]]
    : [...subproofReference(m - k, lo + k, hi, false), [lo, lo + k]];
}

const big = fc.oneof(
  fc.integer({ min: 2 ** 32 - 600, max: 2 ** 32 + 600 }),
  fc.integer({ min: Number.MAX_SAFE_INTEGER - 600, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: 2 ** 52 - 3, max: 2 ** 52 + 3 }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);

describe('proof ranges at large sizes (property)', () => {
  it('inclusionProofRanges is PATH exactly, up to 2^53 − 1', () => {
    fc.assert(
      fc.property(
        big.chain((size) => fc.tuple(fc.oneof(fc.nat({ max: size - 1 }), fc.constant(size - 1)), fc.constant(size))),
        ([index, size]) => {
          expect(inclusionProofRanges(index, size)).toEqual(pathReference(index, 0, size));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('consistencyProofRanges is PROOF exactly, up to 2^53 − 1', () => {
    fc.assert(
      fc.property(
        big.chain((size2) =>
          fc.tuple(fc.oneof(fc.integer({ min: 1, max: size2 }), fc.constant(size2 - 1 || 1)), fc.constant(size2)),
        ),
        ([size1, size2]) => {
          const expected = size1 === size2 ? [] : subproofReference(size1, 0, size2, true);
          expect(consistencyProofRanges(size1, size2)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  // A tree whose leaves all share one hash: any node's hash depends only on its level, so
  // proofs over trees of 2^53 − 1 leaves can be built and checked in microseconds.
  const levelHashes: Buffer[] = [sha256(Buffer.from('uniform leaf'))];
  for (let l = 1; l <= 53; l++) levelHashes.push(hashChildren(levelHashes[l - 1]!, levelHashes[l - 1]!));
  const uniformNodes: ReadNodes = (ids: readonly NodeId[]) => Promise.resolve(ids.map((n) => levelHashes[n.level]!));
  const uniformRoot = (size: number): Buffer => foldRange(perfectNodesOf(0, size).map((n) => levelHashes[n.level]!));

  it('proofs generated and verified at huge sizes use exact arithmetic', async () => {
    await fc.assert(
      fc.asyncProperty(
        big.chain((size) => fc.tuple(fc.nat({ max: size - 1 }), fc.integer({ min: 1, max: size }), fc.constant(size))),
        async ([index, size1, size]) => {
          const leafHash = levelHashes[0]!;
          const proof = await inclusionProof(index, size, uniformNodes);
          expect(verifyInclusion({ index, size, leafHash, proof, root: uniformRoot(size) })).toEqual({ ok: true });
          const tampered = proof.map((h, i) => (i === 0 ? flipBit(h, 0) : h));
          if (tampered.length > 0) {
            expect(verifyInclusion({ index, size, leafHash, proof: tampered, root: uniformRoot(size) }).ok).toBe(false);
          }
          const cProof = await consistencyProof(size1, size, uniformNodes);
          const check = verifyConsistency({
            size1,
            size2: size,
            root1: uniformRoot(size1),
            root2: uniformRoot(size),
            proof: cProof,
          });
          expect(check).toEqual({ ok: true });
        },
      ),
      { numRuns: 300 },
    );
  });
});
