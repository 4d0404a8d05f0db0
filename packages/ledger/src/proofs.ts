/**
 * RFC 9162 inclusion and consistency proofs: generation over any source of perfect-subtree
 * hashes (the stores serve them from Merkle tiles, see tiles.ts) and verification
 * (RFC 9162 §2.1.3.2 and §2.1.4.2).
 */
import { LedgerError } from './errors.js';
import type { NodeId } from './merkle.js';
import { HASH_BYTES, foldRange, hashChildren, largestPowerOfTwoBelow, perfectNodesOf } from './merkle.js';

/** Reads the hashes of perfect subtrees, in the order asked. */
export type ReadNodes = (ids: readonly NodeId[]) => Promise<Buffer[]>;

/** A half-open leaf range [begin, end) whose MTH is one proof element. */
export type LeafRange = readonly [begin: number, end: number];

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The ranges whose MTHs form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), in proof order
 * (nearest the leaf first). Throws LEDGER_INVALID_INPUT unless 0 ≤ index < size.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  if (!isSize(index) || !isSize(size) || index >= size) {
    throw new LedgerError('LEDGER_INVALID_INPUT', 'an inclusion proof needs integers 0 ≤ index < size ≤ 2^53 − 1');
  }
  // PATH(m, D[lo:hi]) recurses into the half holding m and appends the other half's MTH, so
  // walking down from the root collects the elements farthest from the leaf first.
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
    }
  }
  return topDown.reverse();
}

/**
 * The ranges whose MTHs form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), in proof order.
 * Empty when size1 = size2 or size1 = 0. Throws LEDGER_INVALID_INPUT unless 0 ≤ size1 ≤ size2.
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) {
    throw new LedgerError('LEDGER_INVALID_INPUT', 'a consistency proof needs integers 0 ≤ size1 ≤ size2 ≤ 2^53 − 1');
  }
  if (size1 === 0 || size1 === size2) return [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step appends one element after the recursion's.
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size2;
  let m = size1; // relative to lo
  let wholeOldTree = true; // RFC's b: D[lo:lo+m] is still the complete old tree
  while (m !== hi - lo) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
      m -= k;
      wholeOldTree = false;
    }
  }
  const proof: LeafRange[] = wholeOldTree ? [] : [[lo, hi]];
  return proof.concat(topDown.reverse());
}

/**
 * The MTH of each range: one batched `readNodes` call for all perfect subtrees involved
 * (perfectNodesOf), then foldRange per range.
 */
export async function hashRanges(ranges: readonly LeafRange[], readNodes: ReadNodes): Promise<Buffer[]> {
  if (ranges.length === 0) return [];
  const slotOf = new Map<string, number>();
  const ids: NodeId[] = [];
  const slotsPerRange = ranges.map(([begin, end]) => {
    if (begin >= end) throw new LedgerError('LEDGER_INVALID_INPUT', 'a proof range must not be empty');
    return perfectNodesOf(begin, end).map((node) => {
      const key = `${node.level}/${node.index}`;
      let slot = slotOf.get(key);
      if (slot === undefined) {
        slot = ids.length;
        slotOf.set(key, slot);
        ids.push(node);
      }
      return slot;
    });
  });
  const hashes = await readNodes(ids);
  if (hashes.length !== ids.length || hashes.some((h) => h.length !== HASH_BYTES)) {
    throw new LedgerError(
      'LEDGER_INVALID_INPUT',
      `the node source returned ${hashes.length} hashes for ${ids.length} nodes, or a hash that is not 32 bytes`,
    );
  }
  return slotsPerRange.map((slots) => foldRange(slots.map((slot) => hashes[slot]!)));
}

/** Inclusion proof of leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(index: number, size: number, readNodes: ReadNodes): Promise<Buffer[]> {
  return hashRanges(inclusionProofRanges(index, size), readNodes);
}

/** Consistency proof between the trees of `size1` and `size2` leaves. */
export async function consistencyProof(size1: number, size2: number, readNodes: ReadNodes): Promise<Buffer[]> {
  return hashRanges(consistencyProofRanges(size1, size2), readNodes);
}

/** Outcome of a proof check; `reason` is plain language for a person. */
export type ProofCheck = { ok: true } | { ok: false; reason: string };

const OK: ProofCheck = { ok: true };
const fail = (reason: string): ProofCheck => ({ ok: false, reason });

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_BYTES;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Why `proof` is not a list of 32-byte hashes, or undefined when it is. */
function malformedProof(proof: unknown): string | undefined {
  if (!Array.isArray(proof)) return 'the proof is not a list of hashes';
  const bad = proof.findIndex((h) => !isHash(h));
  return bad === -1 ? undefined : `proof element ${bad} is not a 32-byte hash`;
}

/** x >> 1 for doubles up to 2^53 (>>> would truncate to 32 bits). */
const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

/**
 * RFC 9162 §2.1.3.2: does `proof` show that `leafHash` is leaf `index` of the tree of `size`
 * leaves with root `root`? Never throws: malformed input (index ≥ size, wrong hash lengths,
 * proof too long or short) is a failed check.
 */
export function verifyInclusion(input: {
  index: number;
  size: number;
  leafHash: Uint8Array;
  proof: readonly Uint8Array[];
  root: Uint8Array;
}): ProofCheck {
  const { index, size, leafHash, proof, root } = input;
  if (!isSize(index) || !isSize(size)) return fail('the leaf index and tree size must be integers from 0 to 2^53 − 1');
  if (index >= size) return fail(`leaf ${index} is not in a tree of ${size} leaves`);
  if (!isHash(leafHash)) return fail('the leaf hash is not 32 bytes');
  if (!isHash(root)) return fail('the root is not 32 bytes');
  const malformed = malformedProof(proof);
  if (malformed !== undefined) return fail(malformed);
  const expected = inclusionProofRanges(index, size).length;
  if (proof.length !== expected) {
    return fail(`the proof has ${proof.length} hashes; leaf ${index} of a tree of ${size} leaves needs ${expected}`);
  }

  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return fail('the proof is longer than the tree is deep');
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return fail('the proof is shorter than the tree is deep');
  if (!sameBytes(r, root)) return fail('the proof does not lead to the expected root: the leaf is not in that tree');
  return OK;
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `size1` leaves with root `root1` is a
 * prefix of the tree of `size2` leaves with root `root2`? size1 = size2 requires an empty proof
 * and equal roots. size1 = 0 is always a failed check: a proof from the empty tree proves
 * nothing (RFC 9162 defines PROOF only for 0 < size1), and the shared RFC 9162 test vectors
 * require rejecting it; a caller comparing against an empty tree needs no proof. Never throws.
 */
export function verifyConsistency(input: {
  size1: number;
  size2: number;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: readonly Uint8Array[];
}): ProofCheck {
  const { size1, size2, root1, root2, proof } = input;
  if (!isSize(size1) || !isSize(size2)) return fail('the tree sizes must be integers from 0 to 2^53 − 1');
  if (size1 > size2) return fail(`the older tree (${size1} leaves) is larger than the newer one (${size2} leaves)`);
  if (size1 === 0) return fail('a consistency proof from the empty tree proves nothing');
  if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return fail('the roots must be byte strings');
  const malformed = malformedProof(proof);
  if (malformed !== undefined) return fail(malformed);
  if (size1 === size2) {
    if (proof.length !== 0) return fail('trees of the same size need an empty proof');
    return sameBytes(root1, root2) ? OK : fail('the two trees have the same size but different roots');
  }
  if (!isHash(root1) || !isHash(root2)) return fail('the roots must be 32-byte hashes');
  const expected = consistencyProofRanges(size1, size2).length;
  if (proof.length !== expected) {
    return fail(`the proof has ${proof.length} hashes; trees of ${size1} and ${size2} leaves need ${expected}`);
  }

  // Step 2: when size1 is a power of two the old root is itself the first node of the path.
  const path: readonly Uint8Array[] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return fail('the proof is longer than the trees need');
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return fail('the proof is shorter than the trees need');
  if (!sameBytes(fr, root1)) return fail('the proof does not lead to the older root: the trees are not consistent');
  if (!sameBytes(sr, root2)) return fail('the proof does not lead to the newer root: the trees are not consistent');
  return OK;
}

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
