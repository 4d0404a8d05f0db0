import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLedgerError } from './errors.js';
import { hashChildren, rootOfLeafHashes, type NodeId } from './merkle.js';
import {
  consistencyProof,
  consistencyProofRanges,
  hashRanges,
  inclusionProof,
  inclusionProofRanges,
  verifyConsistency,
  verifyInclusion,
  type ReadNodes,
} from './proofs.js';

const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (i: number): Buffer => sha256(Buffer.from([0]), Buffer.from(`leaf ${i}`));
const leaves = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafHash(i));

function memoryNodes(all: readonly Buffer[], calls: NodeId[][] = []): ReadNodes {
  return (ids) => {
    calls.push([...ids]);
    return Promise.resolve(
      ids.map((n) => rootOfLeafHashes(all.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level))),
    );
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLedgerError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

describe('inclusionProofRanges', () => {
  it('follows PATH of RFC 9162 §2.1.3.1 (nearest the leaf first)', () => {
    // The RFC's example tree of 7 leaves: the path of leaf 3 is d2, [0,2), [4,7).
    expect(inclusionProofRanges(3, 7)).toEqual([
      [2, 3],
      [0, 2],
      [4, 7],
    ]);
    expect(inclusionProofRanges(6, 7)).toEqual([
      [4, 6],
      [0, 4],
    ]);
    expect(inclusionProofRanges(0, 1)).toEqual([]);
  });

  it('rejects index ≥ size and non-integers', () => {
    for (const [i, n] of [
      [0, 0],
      [5, 5],
      [-1, 5],
      [1.5, 5],
      [0, 2 ** 53],
    ] as const) {
      expect(() => inclusionProofRanges(i, n)).toThrow(expect.objectContaining({ code: 'LEDGER_INVALID_INPUT' }));
    }
  });
});

describe('consistencyProofRanges', () => {
  it('follows PROOF/SUBPROOF of RFC 9162 §2.1.4.1', () => {
    // The RFC's examples over the 7-leaf tree: PROOF(3) = c, d, g, l; PROOF(4) = l; PROOF(6) = i, j, k.
    expect(consistencyProofRanges(3, 7)).toEqual([
      [2, 3],
      [3, 4],
      [0, 2],
      [4, 7],
    ]);
    expect(consistencyProofRanges(4, 7)).toEqual([[4, 7]]);
    expect(consistencyProofRanges(6, 7)).toEqual([
      [4, 6],
      [6, 7],
      [0, 4],
    ]);
  });

  it('is empty for size1 = size2 or size1 = 0, and rejects size1 > size2', () => {
    expect(consistencyProofRanges(5, 5)).toEqual([]);
    expect(consistencyProofRanges(0, 9)).toEqual([]);
    expect(() => consistencyProofRanges(6, 5)).toThrow(expect.objectContaining({ code: 'LEDGER_INVALID_INPUT' }));
  });
});

describe('hashRanges', () => {
  it('reads all nodes in one batched call without duplicates', async () => {
    const all = leaves(13);
    const calls: NodeId[][] = [];
    const hashes = await hashRanges(
      [
        [8, 13],
        [0, 8],
        [8, 12],
      ],
      memoryNodes(all, calls),
    );
    expect(calls).toHaveLength(1);
    const keys = calls[0]!.map((n) => `${n.level}/${n.index}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(['0/12', '2/2', '3/0']);
    expect(hashes).toEqual([
      rootOfLeafHashes(all.slice(8, 13)),
      rootOfLeafHashes(all.slice(0, 8)),
      rootOfLeafHashes(all.slice(8, 12)),
    ]);
  });

  it('does not call readNodes for no ranges, and rejects a source that returns too few hashes', async () => {
    const calls: NodeId[][] = [];
    expect(await hashRanges([], memoryNodes([], calls))).toEqual([]);
    expect(calls).toHaveLength(0);
    await rejectsWith(
      hashRanges([[0, 3]], () => Promise.resolve([leafHash(0)])),
      'LEDGER_INVALID_INPUT',
    );
  });
});

describe('verifyInclusion', () => {
  const all = leaves(7);
  const root = rootOfLeafHashes(all);

  it('accepts the RFC example proof and names the problem otherwise', async () => {
    const proof = await inclusionProof(3, 7, memoryNodes(all));
    expect(proof).toEqual([all[2], hashChildren(all[0]!, all[1]!), rootOfLeafHashes(all.slice(4))]);
    expect(verifyInclusion({ index: 3, size: 7, leafHash: all[3]!, proof, root })).toEqual({ ok: true });
    const wrongLeaf = verifyInclusion({ index: 3, size: 7, leafHash: all[4]!, proof, root });
    expect(wrongLeaf).toEqual({ ok: false, reason: expect.stringMatching(/root/) });
  });

  it('never throws on malformed input', () => {
    const good = { index: 0, size: 7, leafHash: all[0]!, proof: [] as Buffer[], root };
    const cases: Parameters<typeof verifyInclusion>[0][] = [
      { ...good, index: 7 },
      { ...good, index: -1 },
      { ...good, index: 0.5 },
      { ...good, size: Number.NaN },
      { ...good, size: 2 ** 60 },
      { ...good, leafHash: Buffer.alloc(31) },
      { ...good, root: Buffer.alloc(0) },
      { ...good, proof: [Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(33)] },
      { ...good, proof: [Buffer.alloc(32)] },
      { ...good, proof: null as unknown as Buffer[] },
      { ...good, leafHash: 'abc' as unknown as Buffer },
    ];
    for (const input of cases) {
      const check = verifyInclusion(input);
      expect(check.ok).toBe(false);
      expect(check.ok ? '' : check.reason).toMatch(/[a-z]{3}/);
    }
  });
});

describe('verifyConsistency', () => {
  const all = leaves(7);

  it('accepts the RFC example proofs', async () => {
    for (const size1 of [1, 2, 3, 4, 5, 6, 7]) {
      const proof = await consistencyProof(size1, 7, memoryNodes(all));
      const check = verifyConsistency({
        size1,
        size2: 7,
        root1: rootOfLeafHashes(all.slice(0, size1)),
        root2: rootOfLeafHashes(all),
        proof,
      });
      expect(check, `size1 ${size1}`).toEqual({ ok: true });
    }
  });

  it('rejects a proof from the empty tree and equal sizes with different roots', () => {
    const root = rootOfLeafHashes(all);
    expect(verifyConsistency({ size1: 0, size2: 7, root1: rootOfLeafHashes([]), root2: root, proof: [] }).ok).toBe(
      false,
    );
    expect(verifyConsistency({ size1: 7, size2: 7, root1: root, root2: root, proof: [] }).ok).toBe(true);
    expect(verifyConsistency({ size1: 7, size2: 7, root1: root, root2: all[0]!, proof: [] }).ok).toBe(false);
  });

  it('never throws on malformed input', () => {
    const good = { size1: 3, size2: 7, root1: all[0]!, root2: all[1]!, proof: [] as Buffer[] };
    const cases: Parameters<typeof verifyConsistency>[0][] = [
      { ...good, size1: 8 },
      { ...good, size1: -1 },
      { ...good, size2: 7.5 },
      { ...good, size2: Infinity },
      { ...good, root1: Buffer.alloc(3) },
      { ...good, root2: undefined as unknown as Buffer },
      { ...good, proof: [Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(31)] },
      { ...good, proof: [Buffer.alloc(32)] },
      { ...good, proof: 'x' as unknown as Buffer[] },
    ];
    for (const input of cases) {
      const check = verifyConsistency(input);
      expect(check.ok).toBe(false);
      expect(check.ok ? '' : check.reason).toMatch(/[a-z]{3}/);
    }
  });
});
