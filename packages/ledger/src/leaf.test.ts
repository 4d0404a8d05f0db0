import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { isLedgerError } from './errors.js';
import { createLeafHasher, encodeLeaf, hashLeaf, LEAF_FORMAT_TAG, leafHashOf, type LeafInput } from './leaf.js';

// The worked example of docs/ledger-format.md, computed independently (Python struct + hashlib).
const EXAMPLE_EVENT = {
  eventId: 'e1',
  tenant: 'clinic-a',
  occurredAt: 1714573800000,
  receivedAt: 1714573800500,
  source: { system: 'ehr' },
  actor: { userId: 'u1' },
  patient: { id: 'p1' },
  action: 'view',
  resource: { type: 'Patient' },
  outcome: 'success',
};
const EXAMPLE_JSON =
  '{"action":"view","actor":{"userId":"u1"},"eventId":"e1","occurredAt":1714573800000,"outcome":"success","patient":{"id":"p1"},"receivedAt":1714573800500,"resource":{"type":"Patient"},"source":{"system":"ehr"},"tenant":"clinic-a"}';
const EXAMPLE: LeafInput = {
  origin: 'phi-audit/access-events/0',
  index: 0,
  sourceOffset: 42,
  eventId: 'e1',
  eventJson: EXAMPLE_JSON,
};
const EXAMPLE_LEAF_HEX = [
  '00000011' + '7068692d61756469742f6c6561662f7631', // lp("phi-audit/leaf/v1")
  '00000019' + '7068692d61756469742f6163636573732d6576656e74732f30', // lp(origin)
  '0000000000000000', // u64(index = 0)
  '000000000000002a', // u64(sourceOffset = 42)
  '00000002' + '6531', // lp("e1")
  '000000e4' + Buffer.from(EXAMPLE_JSON, 'utf8').toString('hex'), // lp(eventJson), 228 bytes
].join('');
const EXAMPLE_LEAF_HASH = '00f1ecdbb566cb3a0a03b618bd6408f71f72487293b3b32de0579f63bd2222ef';

describe('encodeLeaf', () => {
  it('produces the documented bytes for the worked example', () => {
    expect(canonicalJson(EXAMPLE_EVENT)).toBe(EXAMPLE_JSON);
    const leaf = encodeLeaf(EXAMPLE);
    expect(leaf.length).toBe(304);
    expect(leaf.toString('hex')).toBe(EXAMPLE_LEAF_HEX);
    expect(LEAF_FORMAT_TAG).toBe('phi-audit/leaf/v1');
  });

  it('writes u64 values above 2^32 big-endian across both words', () => {
    const leaf = encodeLeaf({ ...EXAMPLE, index: 2 ** 32 + 5, sourceOffset: Number.MAX_SAFE_INTEGER });
    const at = 4 + 17 + 4 + 25;
    expect(leaf.subarray(at, at + 8).toString('hex')).toBe('0000000100000005');
    expect(leaf.subarray(at + 8, at + 16).toString('hex')).toBe('001fffffffffffff');
  });

  it('prefixes UTF-8 byte lengths, not UTF-16 lengths', () => {
    const leaf = encodeLeaf({ ...EXAMPLE, eventId: 'é😀' });
    const at = 4 + 17 + 4 + 25 + 16;
    expect(leaf.subarray(at, at + 4 + 6).toString('hex')).toBe('00000006' + 'c3a9f09f9880');
  });

  it.each([
    ['index', { index: -1 }],
    ['index', { index: 1.5 }],
    ['index', { index: 2 ** 53 }],
    ['sourceOffset', { sourceOffset: Number.NaN }],
    ['eventId', { eventId: 'a\ud800b' }],
    ['origin', { origin: '\udc00' }],
    ['eventJson', { eventJson: '"\ud83d"' }],
  ] as const)('rejects a bad %s with LEDGER_INVALID_INPUT', (_field, patch) => {
    let caught: unknown;
    try {
      encodeLeaf({ ...EXAMPLE, ...patch });
    } catch (err) {
      caught = err;
    }
    expect(isLedgerError(caught, 'LEDGER_INVALID_INPUT')).toBe(true);
    expect(() => leafHashOf({ ...EXAMPLE, ...patch })).toThrow();
  });
});

describe('leaf hash', () => {
  it('is SHA-256(0x00 ‖ leaf), the RFC 9162 leaf hash', () => {
    const leaf = encodeLeaf(EXAMPLE);
    const expected = createHash('sha256')
      .update(Buffer.from([0]))
      .update(leaf)
      .digest('hex');
    expect(expected).toBe(EXAMPLE_LEAF_HASH);
    expect(hashLeaf(leaf).toString('hex')).toBe(EXAMPLE_LEAF_HASH);
    expect(leafHashOf(EXAMPLE)).toBe(EXAMPLE_LEAF_HASH);
  });

  it('stays correct when the reused buffer grows and shrinks back', () => {
    const hasher = createLeafHasher({ origin: EXAMPLE.origin });
    const big = { ...EXAMPLE, index: 1, eventJson: JSON.stringify('€'.repeat(5000)) };
    expect(hasher.hashHex(0, 42, 'e1', EXAMPLE_JSON)).toBe(EXAMPLE_LEAF_HASH);
    expect(hasher.hashHex(1, 42, 'e1', big.eventJson)).toBe(hashLeaf(encodeLeaf(big)).toString('hex'));
    expect(hasher.hashHex(0, 42, 'e1', EXAMPLE_JSON)).toBe(EXAMPLE_LEAF_HASH);
  });
});

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const leafInput = fc.record({
  origin: text,
  index: fc.maxSafeNat(),
  sourceOffset: fc.maxSafeNat(),
  eventId: text,
  eventJson: text,
});

describe('leaf encoding properties', () => {
  it('different inputs give different leaves and different leaf hashes', () => {
    fc.assert(
      fc.property(leafInput, leafInput, (a, b) => {
        const same =
          a.origin === b.origin &&
          a.index === b.index &&
          a.sourceOffset === b.sourceOffset &&
          a.eventId === b.eventId &&
          a.eventJson === b.eventJson;
        expect(encodeLeaf(a).equals(encodeLeaf(b))).toBe(same);
        expect(leafHashOf(a) === leafHashOf(b)).toBe(same);
      }),
      { numRuns: 500 },
    );
  });

  it('moving bytes between adjacent fields changes the leaf (framing is unambiguous)', () => {
    fc.assert(
      fc.property(leafInput, fc.string({ minLength: 1, maxLength: 5 }), (input, moved) => {
        const a = { ...input, eventId: input.eventId + moved };
        const b = { ...input, eventJson: moved + input.eventJson };
        expect(encodeLeaf(a).equals(encodeLeaf(b))).toBe(false);
      }),
    );
  });

  it('the reused hasher agrees with the one-shot encoder for any sequence of inputs', () => {
    fc.assert(
      fc.property(text, fc.array(leafInput, { maxLength: 8 }), (origin, inputs) => {
        const hasher = createLeafHasher({ origin });
        for (const x of inputs) {
          expect(hasher.hashHex(x.index, x.sourceOffset, x.eventId, x.eventJson)).toBe(leafHashOf({ ...x, origin }));
        }
      }),
    );
  });
});
