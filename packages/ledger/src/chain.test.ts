import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChainHasher, emptyHead, GENESIS_CHAIN, isHashHex, nextChain } from './chain.js';
import { isLedgerError } from './errors.js';

const EXAMPLE_LEAF_HASH = '00f1ecdbb566cb3a0a03b618bd6408f71f72487293b3b32de0579f63bd2222ef';
// chain_0 of the docs/ledger-format.md worked example, computed independently (Python hashlib).
const EXAMPLE_CHAIN_0 = 'ebbfb6be1b0733da9933643ec1c31fc4c5cf25906fd4501b8901d34d4d2a4dc9';

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('chain', () => {
  it('starts from 32 zero bytes', () => {
    expect(GENESIS_CHAIN).toBe('00'.repeat(32));
    expect(emptyHead('o')).toEqual({ origin: 'o', size: 0, chain: GENESIS_CHAIN, lastSourceOffset: -1 });
  });

  it('hashes the raw 32-byte values, not their hex', () => {
    expect(nextChain(GENESIS_CHAIN, EXAMPLE_LEAF_HASH)).toBe(EXAMPLE_CHAIN_0);
  });

  it('nextChain = SHA-256(prev ‖ leaf) and the reused hasher agrees over any sequence', () => {
    fc.assert(
      fc.property(fc.array(hex32, { maxLength: 10 }), (leaves) => {
        const hasher = createChainHasher();
        let chain = GENESIS_CHAIN;
        for (const leaf of leaves) {
          const expected = createHash('sha256')
            .update(Buffer.from(chain, 'hex'))
            .update(Buffer.from(leaf, 'hex'))
            .digest('hex');
          expect(nextChain(chain, leaf)).toBe(expected);
          expect(hasher.next(leaf)).toBe(expected);
          chain = expected;
        }
      }),
    );
  });

  it.each([
    ['uppercase', EXAMPLE_LEAF_HASH.toUpperCase()],
    ['short', EXAMPLE_LEAF_HASH.slice(2)],
    ['non-hex', `${EXAMPLE_LEAF_HASH.slice(1)}g`],
  ])('rejects a %s hash with LEDGER_INVALID_INPUT', (_what, bad) => {
    expect(isHashHex(bad)).toBe(false);
    let caught: unknown;
    try {
      nextChain(GENESIS_CHAIN, bad);
    } catch (err) {
      caught = err;
    }
    expect(isLedgerError(caught, 'LEDGER_INVALID_INPUT')).toBe(true);
    expect(() => nextChain(bad, EXAMPLE_LEAF_HASH)).toThrow(/previous chain/);
  });
});
