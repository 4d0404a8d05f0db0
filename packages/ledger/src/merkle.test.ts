import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLedgerError } from './errors.js';
import {
  createMerkleAccumulator,
  emptyRoot,
  foldRange,
  hashChildren,
  perfectNodesOf,
  rootOfLeafHashes,
  type NodeId,
} from './merkle.js';

const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (i: number): Buffer => sha256(Buffer.from([0]), Buffer.from(`leaf ${i}`));
const leaves = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafHash(i));

function expectLedgerError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isLedgerError(thrown), String(thrown)).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}

/** MTH of the leaves under a node, straight from the definition. */
const nodeHash = (all: readonly Buffer[], node: NodeId): Buffer =>
  rootOfLeafHashes(all.slice(node.index * 2 ** node.level, (node.index + 1) * 2 ** node.level));

describe('hashChildren / emptyRoot / rootOfLeafHashes', () => {
  it('hashes an interior node as SHA-256(0x01 ‖ left ‖ right)', () => {
    const [a, b] = leaves(2) as [Buffer, Buffer];
    expect(hashChildren(a, b)).toEqual(sha256(Buffer.from([1]), a, b));
    expect(hashChildren(b, a)).not.toEqual(hashChildren(a, b));
  });

  it('rejects children that are not 32 bytes', () => {
    expectLedgerError(() => hashChildren(Buffer.alloc(31), Buffer.alloc(32)), 'LEDGER_INVALID_INPUT');
  });

  it('gives SHA-256("") for the empty tree, as a fresh copy', () => {
    expect(emptyRoot().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    emptyRoot().fill(0);
    expect(emptyRoot()).toEqual(sha256());
    expect(rootOfLeafHashes([])).toEqual(emptyRoot());
  });

  it('splits at the largest power of two below n (RFC 9162 §2.1.1)', () => {
    const l = leaves(5);
    const [l0, l1, l2, l3, l4] = l as [Buffer, Buffer, Buffer, Buffer, Buffer];
    expect(rootOfLeafHashes([l0])).toEqual(l0);
    const left = hashChildren(hashChildren(l0, l1), hashChildren(l2, l3));
    expect(rootOfLeafHashes(l)).toEqual(hashChildren(left, l4));
    expect(rootOfLeafHashes(l.slice(0, 3))).toEqual(hashChildren(hashChildren(l0, l1), l2));
  });
});

describe('perfectNodesOf', () => {
  it('is the binary expansion of the size, largest first, for [0, n)', () => {
    expect(perfectNodesOf(0, 0)).toEqual([]);
    expect(perfectNodesOf(0, 1)).toEqual([{ level: 0, index: 0 }]);
    expect(perfectNodesOf(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('decomposes RFC recursion ranges (aligned begin) largest first', () => {
    // [8, 13) is the right subtree of MTH(D[0:13]).
    expect(perfectNodesOf(8, 13)).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('decomposes unaligned ranges ascending then descending (compact range)', () => {
    expect(perfectNodesOf(3, 13)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(perfectNodesOf(5, 6)).toEqual([{ level: 0, index: 5 }]);
  });

  it('handles sizes up to 2^53 − 1 exactly', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const nodes = perfectNodesOf(0, max);
    expect(nodes).toHaveLength(53);
    expect(nodes[0]).toEqual({ level: 52, index: 0 });
    expect(nodes[52]).toEqual({ level: 0, index: max - 1 });
    const around32 = perfectNodesOf(2 ** 32 - 1, 2 ** 32 + 3);
    expect(around32).toEqual([
      { level: 0, index: 2 ** 32 - 1 },
      { level: 1, index: 2 ** 31 },
      { level: 0, index: 2 ** 32 + 2 },
    ]);
  });

  it('covers any range exactly with aligned, contiguous perfect subtrees', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (x, y) => {
        const [begin, end] = x <= y ? [x, y] : [y, x];
        let pos = begin;
        let sawDescent = false;
        let previous = Infinity;
        const nodes = perfectNodesOf(begin, end);
        for (const [i, node] of nodes.entries()) {
          const width = 2 ** node.level;
          expect(node.index * width).toBe(pos);
          pos += width;
          // Compact range shape: strictly ascending, then strictly descending (one of each size at most).
          if (i > 0 && node.level < previous) sawDescent = true;
          if (sawDescent && i > 0) expect(node.level).toBeLessThan(previous);
          previous = node.level;
        }
        expect(pos).toBe(end);
        expect(nodes.length).toBeLessThanOrEqual(2 * 53);
      }),
    );
  });

  it('rejects ranges outside 0 ≤ begin ≤ end ≤ 2^53 − 1', () => {
    for (const [b, e] of [
      [-1, 3],
      [4, 3],
      [0, 2 ** 53],
      [0.5, 2],
      [0, Number.NaN],
    ] as const) {
      expectLedgerError(() => perfectNodesOf(b, e), 'LEDGER_INVALID_INPUT');
    }
  });
});

describe('foldRange', () => {
  it('is the MTH of a range when the subtree sizes descend', () => {
    const all = leaves(300);
    for (const [begin, end] of [
      [0, 300],
      [256, 300],
      [0, 1],
      [288, 300],
      [128, 192],
    ] as const) {
      const nodes = perfectNodesOf(begin, end);
      expect(foldRange(nodes.map((n) => nodeHash(all, n)))).toEqual(rootOfLeafHashes(all.slice(begin, end)));
    }
  });

  it('is not the MTH for a range with an ascending part (documented limit)', () => {
    const all = leaves(16);
    const nodes = perfectNodesOf(3, 13); // sizes 1, 4, 4, 1
    expect(foldRange(nodes.map((n) => nodeHash(all, n)))).not.toEqual(rootOfLeafHashes(all.slice(3, 13)));
  });

  it('rejects an empty list', () => {
    expectLedgerError(() => foldRange([]), 'LEDGER_INVALID_INPUT');
  });
});

describe('createMerkleAccumulator', () => {
  it('matches rootOfLeafHashes at every size up to 600, with peaks as perfectNodesOf(0, size)', () => {
    const all = leaves(600);
    const acc = createMerkleAccumulator();
    expect(acc.root()).toEqual(emptyRoot());
    for (let n = 1; n <= all.length; n++) {
      acc.append(all[n - 1]!);
      expect(acc.size).toBe(n);
      expect(acc.root()).toEqual(rootOfLeafHashes(all.slice(0, n)));
      if (n % 37 === 0 || n === 255 || n === 256) {
        expect(acc.peaks()).toEqual(perfectNodesOf(0, n).map((node) => nodeHash(all, node)));
      }
    }
  });

  it('does not keep a reference to the caller’s leaf buffer', () => {
    const leaf = leafHash(0);
    const acc = createMerkleAccumulator();
    acc.append(leaf);
    leaf.fill(7);
    expect(acc.root()).toEqual(leafHash(0));
  });

  it('resumes from {size, peaks} at any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 300 }), (split, more) => {
        const all = leaves(split + more);
        const first = createMerkleAccumulator();
        for (const leaf of all.slice(0, split)) first.append(leaf);
        const resumed = createMerkleAccumulator({ size: first.size, peaks: first.peaks() });
        for (const leaf of all.slice(split)) resumed.append(leaf);
        expect(resumed.size).toBe(all.length);
        expect(resumed.root()).toEqual(rootOfLeafHashes(all));
      }),
      { numRuns: 30 },
    );
  });

  it('resumes at a size beyond 2^32 (exact bit arithmetic)', () => {
    const size = 2 ** 32 + 3; // peaks: 2^32, 2, 1
    const peaks = [leafHash(1), leafHash(2), leafHash(3)];
    const acc = createMerkleAccumulator({ size, peaks });
    acc.append(leafHash(4)); // merges with the 1 and the 2 into a 4-leaf peak
    const [big, two, one] = peaks as [Buffer, Buffer, Buffer];
    const four = hashChildren(two, hashChildren(one, leafHash(4)));
    expect(acc.size).toBe(size + 1);
    expect(acc.peaks()).toEqual([big, four]);
    expect(acc.root()).toEqual(hashChildren(big, four));
  });

  it('rejects inconsistent state and bad leaves', () => {
    expectLedgerError(() => createMerkleAccumulator({ size: 3, peaks: [leafHash(0)] }), 'LEDGER_INVALID_INPUT');
    expectLedgerError(() => createMerkleAccumulator({ size: 1, peaks: [Buffer.alloc(31)] }), 'LEDGER_INVALID_INPUT');
    expectLedgerError(() => createMerkleAccumulator({ size: -1, peaks: [] }), 'LEDGER_INVALID_INPUT');
    expectLedgerError(() => createMerkleAccumulator().append(Buffer.alloc(33)), 'LEDGER_INVALID_INPUT');
  });
});
