export * from './types.js';
export * from './errors.js';
export * from './access-queries.js';
export * from './record-columns.js';
export { canonicalAccessEventJson, canonicalJson } from './canonical-json.js';
export { LEAF_FORMAT_TAG, encodeLeaf, hashLeaf, leafHashOf, type LeafInput } from './leaf.js';
export { GENESIS_CHAIN, emptyHead, isHashHex, nextChain } from './chain.js';
export { createChainBuilder, sealedEventOf, type ChainBuilder } from './chain-builder.js';
export {
  VERIFY_FAILURE_KINDS,
  verifyLog,
  type LogVerification,
  type VerifyFailure,
  type VerifyFailureKind,
  type VerifyLogOptions,
} from './verify-log.js';
export { canonicalEventColumns } from './canonical-event-scan.js';
export { unverifiedCheckpointOf, type CheckpointToVerify } from './verify-checkpoints.js';
export { firstLeafOfTile, type ReadTiles, type TileCheckSummary } from './verify-tiles.js';
export * from './merkle.js';
export * from './proofs.js';
export * from './tiles.js';
export * from './signed-note.js';
export * from './checkpoint.js';
export * from './evidence-bundle.js';
export * from './evidence-export.js';
export * from './log-status.js';
