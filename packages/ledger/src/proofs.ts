/**
 * RFC 9162 inclusion and consistency proofs: generation over any source of perfect-subtree
 * hashes (the stores serve them from Merkle tiles, see tiles.ts) and verification
 * (RFC 9162 §2.1.3.2 and §2.1.4.2).
 */
import type { NodeId } from './merkle.js';

/** Reads the hashes of perfect subtrees, in the order asked. */
export type ReadNodes = (ids: readonly NodeId[]) => Promise<Buffer[]>;

/** A half-open leaf range [begin, end) whose MTH is one proof element. */
export type LeafRange = readonly [begin: number, end: number];

/**
 * The ranges whose MTHs form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), in proof order
 * (nearest the leaf first). Throws LEDGER_INVALID_INPUT unless 0 ≤ index < size.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  void index;
  void size;
  throw new Error('not implemented');
}

/**
 * The ranges whose MTHs form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), in proof order.
 * Empty when size1 = size2 or size1 = 0. Throws LEDGER_INVALID_INPUT unless 0 ≤ size1 ≤ size2.
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  void size1;
  void size2;
  throw new Error('not implemented');
}

/**
 * The MTH of each range: one batched `readNodes` call for all perfect subtrees involved
 * (perfectNodesOf), then foldRange per range.
 */
export async function hashRanges(ranges: readonly LeafRange[], readNodes: ReadNodes): Promise<Buffer[]> {
  void ranges;
  void readNodes;
  throw new Error('not implemented');
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
  void input;
  throw new Error('not implemented');
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `size1` leaves with root `root1` is a
 * prefix of the tree of `size2` leaves with root `root2`? size1 = size2 requires an empty proof
 * and equal roots; size1 = 0 requires an empty proof. Never throws.
 */
export function verifyConsistency(input: {
  size1: number;
  size2: number;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: readonly Uint8Array[];
}): ProofCheck {
  void input;
  throw new Error('not implemented');
}
