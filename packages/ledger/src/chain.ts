import { hash } from 'node:crypto';
import { LedgerError } from './errors.js';
import type { LogHead } from './types.js';

/** The chain value before index 0: 32 zero bytes, lowercase hex. */
export const GENESIS_CHAIN = '0'.repeat(64);

const HASH_HEX = /^[0-9a-f]{64}$/;

/** True when `s` is a 32-byte hash in lowercase hex, the only form the ledger stores. */
export function isHashHex(s: unknown): s is string {
  return typeof s === 'string' && HASH_HEX.test(s);
}

/**
 * chain_i = SHA-256(chain_{i-1} ‖ leafHash_i) over the raw 32-byte values; both arguments and
 * the result are lowercase hex. Throws LEDGER_INVALID_INPUT for anything else.
 */
export function nextChain(prevChainHex: string, leafHashHex: string): string {
  if (!isHashHex(prevChainHex))
    throw new LedgerError('LEDGER_INVALID_INPUT', 'previous chain must be 64 lowercase hex digits');
  if (!isHashHex(leafHashHex))
    throw new LedgerError('LEDGER_INVALID_INPUT', 'leaf hash must be 64 lowercase hex digits');
  const buf = Buffer.allocUnsafe(64);
  buf.write(prevChainHex, 0, 'hex');
  buf.write(leafHashHex, 32, 'hex');
  return hash('sha256', buf, 'hex');
}

/**
 * Chains leaf hashes with one reused 64-byte buffer (the verifier's and writer's hot path).
 * Inputs must already be lowercase hex of 32 bytes.
 */
export interface ChainHasher {
  /** Sets the running chain value (hex). */
  reset(chainHex: string): void;
  /** Advances the running chain by one leaf hash (hex) and returns the new chain value (hex). */
  next(leafHashHex: string): string;
  /** The raw 32 bytes of the leaf hash the last `next` took (a view, valid until the next call): spares a caller decoding the hex again. */
  lastLeafBytes(): Buffer;
}

/** Creates a ChainHasher starting at `start` (default GENESIS_CHAIN). */
export function createChainHasher(start: string = GENESIS_CHAIN): ChainHasher {
  const buf = Buffer.alloc(64);
  const reset = (chainHex: string): void => {
    buf.write(chainHex, 0, 'hex');
  };
  reset(start);
  const leafView = buf.subarray(32, 64);
  return {
    reset,
    lastLeafBytes: () => leafView,
    next(leafHashHex) {
      buf.write(leafHashHex, 32, 'hex');
      // A 'hex' digest and writing it back costs less than half of a 'buffer' digest (which
      // allocates a Buffer per call) plus its hex conversion: this is once per record.
      const out = hash('sha256', buf, 'hex');
      buf.write(out, 0, 'hex');
      return out;
    },
  };
}

/** Head of a log with no records. */
export function emptyHead(origin: string): LogHead {
  return { origin, size: 0, chain: GENESIS_CHAIN, lastSourceOffset: -1 };
}

/** Throws LEDGER_INVALID_HEAD unless `head` is a well-formed log head. */
export function assertValidHead(head: LogHead): void {
  const bad = (what: string): never => {
    throw new LedgerError('LEDGER_INVALID_HEAD', `log head ${what}`);
  };
  if (typeof head.origin !== 'string' || head.origin.length === 0 || !head.origin.isWellFormed())
    bad('origin must be a non-empty well-formed string');
  if (!Number.isSafeInteger(head.size) || head.size < 0) bad('size must be a non-negative safe integer');
  if (!isHashHex(head.chain)) bad('chain must be 64 lowercase hex digits');
  if (!Number.isSafeInteger(head.lastSourceOffset) || head.lastSourceOffset < -1)
    bad('lastSourceOffset must be a safe integer ≥ -1');
  if (head.size === 0 && (head.chain !== GENESIS_CHAIN || head.lastSourceOffset !== -1)) {
    bad('of an empty log must have the genesis chain and lastSourceOffset -1');
  }
}
