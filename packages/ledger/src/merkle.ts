/**
 * RFC 9162 Merkle tree hashing over leaf hashes (docs/ledger-format.md, "Merkle tree").
 * node = SHA-256(0x01 ‖ left ‖ right); the root of the empty tree is SHA-256("").
 * Hashes are raw 32-byte Buffers here; the stores keep leaf hashes as lowercase hex.
 */

/** Bytes in a hash. */
export const HASH_BYTES = 32;

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). Level 0 nodes are leaf hashes. */
export interface NodeId {
  level: number;
  index: number;
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  void left;
  void right;
  throw new Error('not implemented');
}

/** SHA-256 of the empty string: the root of a tree of size 0. */
export function emptyRoot(): Buffer {
  throw new Error('not implemented');
}

/**
 * MTH(D[0:n]) of RFC 9162 §2.1.1 computed directly from all leaf hashes (reference
 * implementation for tests and small inputs; O(n) memory).
 */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  void leafHashes;
  throw new Error('not implemented');
}

/**
 * The perfect subtrees whose concatenation is [begin, end), left to right, as in RFC 9162's
 * recursive split (largest aligned subtree first). Throws LEDGER_INVALID_INPUT unless
 * 0 ≤ begin ≤ end ≤ 2^53 − 1.
 */
export function perfectNodesOf(begin: number, end: number): NodeId[] {
  void begin;
  void end;
  throw new Error('not implemented');
}

/**
 * Folds the hashes of consecutive perfect subtrees (left to right, sizes descending as
 * `perfectNodesOf` yields them) into the MTH of their range: h1 ⊕ (h2 ⊕ (… ⊕ hk)).
 * Throws LEDGER_INVALID_INPUT for an empty list.
 */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  void hashes;
  throw new Error('not implemented');
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

/**
 * Creates an accumulator, empty or continuing from `state` (peaks as `peaks()` returns them).
 * Throws LEDGER_INVALID_INPUT when the number of peaks does not match popcount(size) or a
 * peak is not 32 bytes.
 */
export function createMerkleAccumulator(state?: { size: number; peaks: readonly Uint8Array[] }): MerkleAccumulator {
  void state;
  throw new Error('not implemented');
}
