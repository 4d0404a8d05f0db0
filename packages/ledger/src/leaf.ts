import { hash } from 'node:crypto';
import { LedgerError } from './errors.js';

/**
 * Leaf encoding, format v1 (docs/ledger-format.md):
 *
 *   lp(x)  = u32be(byteLength(utf8(x))) ‖ utf8(x)
 *   u64(n) = 8-byte big-endian unsigned
 *   leaf   = lp("phi-audit/leaf/v1") ‖ lp(origin) ‖ u64(index) ‖ u64(sourceOffset) ‖ lp(eventId) ‖ lp(eventJson)
 *   leafHash = SHA-256(0x00 ‖ leaf)            (RFC 9162 leaf hash)
 */

/** Format tag framed at the start of every v1 leaf. */
export const LEAF_FORMAT_TAG = 'phi-audit/leaf/v1';

/** RFC 9162 domain-separation prefix for leaf hashes. */
const LEAF_HASH_PREFIX = 0x00;
const TWO_POW_32 = 0x1_0000_0000;

/** The fields a leaf commits to. */
export interface LeafInput {
  origin: string;
  index: number;
  sourceOffset: number;
  eventId: string;
  /** RFC 8785 canonical JSON of the AccessEvent. */
  eventJson: string;
}

function assertU64(name: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `${name} must be a non-negative safe integer`);
  }
}

function assertText(name: string, s: unknown): asserts s is string {
  // A lone surrogate would be written as U+FFFD, so two different strings could share a leaf.
  if (typeof s !== 'string' || !s.isWellFormed()) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `${name} must be a well-formed Unicode string`);
  }
}

function assertLeafInput(input: LeafInput): void {
  assertText('origin', input.origin);
  assertU64('index', input.index);
  assertU64('sourceOffset', input.sourceOffset);
  assertText('eventId', input.eventId);
  assertText('eventJson', input.eventJson);
}

function writeU64(buf: Buffer, n: number, off: number): number {
  buf.writeUInt32BE(Math.floor(n / TWO_POW_32), off);
  buf.writeUInt32BE(n >>> 0, off + 4);
  return off + 8;
}

/** Writes lp(s) at `off`; the caller guarantees room for 4 + 3 × s.length bytes. */
function writeLp(buf: Buffer, s: string, off: number): number {
  const n = buf.write(s, off + 4, 'utf8');
  buf.writeUInt32BE(n, off);
  return off + 4 + n;
}

/**
 * Encodes leaves of one log into a reused buffer and hashes them: the hot path of both the
 * writer and the verifier. Inputs are NOT validated here; callers validate first.
 */
export interface LeafHasher {
  /** SHA-256(0x00 ‖ leaf) as lowercase hex. */
  hashHex(index: number, sourceOffset: number, eventId: string, eventJson: string): string;
  /** The leaf bytes of the last `hashHex` call (a view into the reused buffer, valid until the next call). */
  lastLeaf(): Buffer;
}

/** Creates a LeafHasher for `origin`; the constant prefix lp(tag) ‖ lp(origin) is encoded once. */
export function createLeafHasher(options: { origin: string }): LeafHasher {
  assertText('origin', options.origin);
  const tagBytes = Buffer.byteLength(LEAF_FORMAT_TAG, 'utf8');
  const originBytes = Buffer.byteLength(options.origin, 'utf8');
  const prefixEnd = 1 + 4 + tagBytes + 4 + originBytes;
  let buf = Buffer.allocUnsafe(prefixEnd + 16 + 8 + 4096);
  const writePrefix = (): void => {
    buf[0] = LEAF_HASH_PREFIX;
    writeLp(buf, options.origin, writeLp(buf, LEAF_FORMAT_TAG, 1));
  };
  writePrefix();
  let end = prefixEnd;

  return {
    hashHex(index, sourceOffset, eventId, eventJson) {
      const worst = prefixEnd + 16 + 8 + 3 * (eventId.length + eventJson.length);
      if (worst > buf.length) {
        buf = Buffer.allocUnsafe(Math.max(worst, buf.length * 2));
        writePrefix();
      }
      let off = writeU64(buf, index, prefixEnd);
      off = writeU64(buf, sourceOffset, off);
      off = writeLp(buf, eventId, off);
      end = writeLp(buf, eventJson, off);
      return hash('sha256', buf.subarray(0, end), 'hex');
    },
    lastLeaf() {
      return buf.subarray(1, end);
    },
  };
}

/** Encodes one leaf (format v1). Throws LEDGER_INVALID_INPUT for values that cannot be framed faithfully. */
export function encodeLeaf(input: LeafInput): Buffer {
  assertLeafInput(input);
  const hasher = createLeafHasher({ origin: input.origin });
  hasher.hashHex(input.index, input.sourceOffset, input.eventId, input.eventJson);
  return Buffer.from(hasher.lastLeaf());
}

/** RFC 9162 leaf hash: SHA-256(0x00 ‖ leaf), as raw 32 bytes. */
export function hashLeaf(leaf: Uint8Array): Buffer {
  const prefixed = Buffer.allocUnsafe(leaf.length + 1);
  prefixed[0] = LEAF_HASH_PREFIX;
  prefixed.set(leaf, 1);
  return hash('sha256', prefixed, 'buffer');
}

/** Leaf hash of `input` as lowercase hex (encodeLeaf + hashLeaf in one step). */
export function leafHashOf(input: LeafInput): string {
  assertLeafInput(input);
  return createLeafHasher({ origin: input.origin }).hashHex(
    input.index,
    input.sourceOffset,
    input.eventId,
    input.eventJson,
  );
}
