/**
 * RFC 9162 Merkle tree hashing over leaf hashes (docs/ledger-format.md, "Merkle tree").
 * node = SHA-256(0x01 ‖ left ‖ right); the root of the empty tree is SHA-256("").
 * Hashes are raw 32-byte Buffers here; the stores keep leaf hashes as lowercase hex.
 */
import { hash } from 'node:crypto';
import { LedgerError } from './errors.js';

/** Bytes in a hash. */
export const HASH_BYTES = 32;

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). Level 0 nodes are leaf hashes. */
export interface NodeId {
  level: number;
  index: number;
}

/** RFC 9162 domain-separation prefix for interior nodes. */
const NODE_HASH_PREFIX = 0x01;
/** Largest tree size (and leaf index bound) whose arithmetic stays exact in a double. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

// One reused input buffer: hashing is synchronous, so no call can observe another's bytes.
const nodeInput = Buffer.alloc(1 + 2 * HASH_BYTES);
nodeInput[0] = NODE_HASH_PREFIX;

/** SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `Merkle node children must be ${HASH_BYTES}-byte hashes`);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_BYTES);
  // A 'binary' (latin1) digest copied into a (pooled) Buffer costs about 40% less than a
  // 'buffer' digest, which allocates a fresh ArrayBuffer per call: tiles hash one node per leaf.
  return Buffer.from(hash('sha256', nodeInput, 'binary'), 'latin1');
}

const EMPTY_ROOT = hash('sha256', Buffer.alloc(0), 'buffer');

/** SHA-256 of the empty string: the root of a tree of size 0. */
export function emptyRoot(): Buffer {
  return Buffer.from(EMPTY_ROOT);
}

/** Largest power of two strictly less than n (n ≥ 2): RFC 9162's split point k. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[0:n]) of RFC 9162 §2.1.1 computed directly from all leaf hashes (reference
 * implementation for tests and small inputs; O(n) memory).
 */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  for (const h of leafHashes) {
    if (h.length !== HASH_BYTES) throw new LedgerError('LEDGER_INVALID_INPUT', 'leaf hashes must be 32 bytes');
  }
  if (leafHashes.length === 0) return emptyRoot();
  const mth = (begin: number, end: number): Buffer => {
    if (end - begin === 1) return Buffer.from(leafHashes[begin]!);
    const k = largestPowerOfTwoBelow(end - begin);
    return hashChildren(mth(begin, begin + k), mth(begin + k, end));
  };
  return mth(0, leafHashes.length);
}

function assertSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `${name} must be an integer between 0 and 2^53 − 1`);
  }
}

/**
 * The perfect subtrees whose concatenation is [begin, end), left to right, as in RFC 9162's
 * recursive split (largest aligned subtree first). Throws LEDGER_INVALID_INPUT unless
 * 0 ≤ begin ≤ end ≤ 2^53 − 1.
 *
 * For every range the RFC recursion visits (in particular [0, n) and the ranges of proofs),
 * begin is a multiple of the next power of two ≥ end − begin, so the result is the binary
 * expansion of the length, largest first. Any other range gets the general compact-range
 * decomposition: each step takes the largest subtree aligned at the current position that
 * still fits, so sizes ascend while alignment limits them and then descend.
 */
export function perfectNodesOf(begin: number, end: number): NodeId[] {
  assertSize('begin', begin);
  assertSize('end', end);
  if (begin > end) throw new LedgerError('LEDGER_INVALID_INPUT', 'begin must not exceed end');
  const nodes: NodeId[] = [];
  let pos = begin;
  while (pos < end) {
    const remaining = end - pos;
    let width = 1;
    let level = 0;
    // Doubles stay exact: width ≤ 2^53 and pos is a multiple of width.
    while (width * 2 <= remaining && pos % (width * 2) === 0) {
      width *= 2;
      level += 1;
    }
    nodes.push({ level, index: pos / width });
    pos += width;
  }
  return nodes;
}

/**
 * Folds the hashes of consecutive perfect subtrees (left to right, sizes descending as
 * `perfectNodesOf` yields them) into the MTH of their range: h1 ⊕ (h2 ⊕ (… ⊕ hk)).
 * Throws LEDGER_INVALID_INPUT for an empty list.
 *
 * The result is the RFC 9162 MTH only when the sizes are descending (each subtree at least as
 * large as everything to its right), i.e. for ranges the RFC recursion visits; for a range
 * whose decomposition has ascending parts it is merely a commitment to the same leaves.
 */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  const last = hashes[hashes.length - 1];
  if (last === undefined) throw new LedgerError('LEDGER_INVALID_INPUT', 'cannot fold an empty list of subtrees');
  let acc: Buffer = Buffer.from(last);
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}

/**
 * Incremental Merkle tree (a compact range over [0, size)): O(log n) memory, so a log of
 * billions of records never has to be held in memory. The state is the roots of the perfect
 * subtrees of [0, size), one per set bit of size, largest first.
 */
export interface MerkleAccumulator {
  readonly size: number;
  /** Appends one leaf hash (32 bytes). */
  append(leafHash: Uint8Array): void;
  /** MTH of the leaves so far (emptyRoot() when size is 0). */
  root(): Buffer;
  /** Copies of the perfect-subtree roots of [0, size), largest first (perfectNodesOf(0, size) order). */
  peaks(): Buffer[];
}

/** Number of set bits of a non-negative safe integer (>>> would truncate to 32 bits). */
export function popcount(n: number): number {
  let count = 0;
  let x = n;
  while (x > 0) {
    if (x % 2 === 1) count += 1;
    x = Math.floor(x / 2);
  }
  return count;
}

/** At most 53 peaks: one per bit of a safe integer. */
const MAX_PEAKS = 53;

/**
 * Creates an accumulator, empty or continuing from `state` (peaks as `peaks()` returns them).
 * Throws LEDGER_INVALID_INPUT when the number of peaks does not match popcount(size) or a
 * peak is not 32 bytes.
 */
export function createMerkleAccumulator(state?: { size: number; peaks: readonly Uint8Array[] }): MerkleAccumulator {
  // The peaks live in one preallocated stack (largest first), so appending a leaf allocates
  // nothing beyond the digests of the merges it triggers (one on average).
  const stack = Buffer.alloc(MAX_PEAKS * HASH_BYTES);
  const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
  scratch[0] = NODE_HASH_PREFIX;
  let size = 0;
  let count = 0;

  if (state !== undefined) {
    assertSize('size', state.size);
    if (state.peaks.length !== popcount(state.size)) {
      throw new LedgerError(
        'LEDGER_INVALID_INPUT',
        `a tree of ${state.size} leaves has ${popcount(state.size)} peaks, not ${state.peaks.length}`,
      );
    }
    for (const peak of state.peaks) {
      if (peak.length !== HASH_BYTES) throw new LedgerError('LEDGER_INVALID_INPUT', 'peaks must be 32 bytes');
      stack.set(peak, count * HASH_BYTES);
      count += 1;
    }
    size = state.size;
  }

  return {
    get size() {
      return size;
    },
    append(leafHash) {
      if (leafHash.length !== HASH_BYTES) throw new LedgerError('LEDGER_INVALID_INPUT', 'leaf hashes must be 32 bytes');
      if (size >= MAX_SIZE) throw new LedgerError('LEDGER_INVALID_INPUT', 'the tree cannot exceed 2^53 − 1 leaves');
      // Each trailing 1 bit of size is a peak as large as the carry: merge them; the carry
      // stays in the right half of the scratch input.
      scratch.set(leafHash, 1 + HASH_BYTES);
      let merged = false;
      for (let s = size; s % 2 === 1; s = Math.floor(s / 2)) {
        count -= 1;
        stack.copy(scratch, 1, count * HASH_BYTES, (count + 1) * HASH_BYTES);
        // A 'binary' (latin1) digest, one byte per char, written back skips the Buffer a 'buffer'
        // digest allocates per call: about half the cost of this, the verifier's hot path.
        scratch.write(hash('sha256', scratch, 'binary'), 1 + HASH_BYTES, HASH_BYTES, 'binary');
        merged = true;
      }
      stack.set(merged ? scratch.subarray(1 + HASH_BYTES) : leafHash, count * HASH_BYTES);
      count += 1;
      size += 1;
    },
    root() {
      if (count === 0) return emptyRoot();
      let acc: Buffer = Buffer.from(stack.subarray((count - 1) * HASH_BYTES, count * HASH_BYTES));
      for (let i = count - 2; i >= 0; i--) {
        acc = hashChildren(stack.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), acc);
      }
      return acc;
    },
    peaks() {
      const out: Buffer[] = [];
      for (let i = 0; i < count; i++) out.push(Buffer.from(stack.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)));
      return out;
    },
  };
}
