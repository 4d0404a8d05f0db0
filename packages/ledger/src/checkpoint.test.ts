import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { isLedgerError } from './errors.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey, signNote } from './signed-note.js';

const ROOT = Buffer.from(
  '0a c5 18 6a 91 86 3e 8e 1d 90 c8 08 01 4a a8 9b f5 da 8e 3e e1 d9 f0 76 30 f0 37 8f 68 f1 ab 62'.replaceAll(' ', ''),
  'hex',
);
// The example body of c2sp.org/tlog-checkpoint.
const SPEC_BODY = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

const KEY = generateNoteKey('phi-audit/access-events/0');
const SIGNER = parseSignerKey(KEY.signerKey);
const VERIFIER = parseVerifierKey(KEY.verifierKey);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isLedgerError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('formatCheckpoint / parseCheckpoint', () => {
  it('parses the tlog-checkpoint spec example and formats it back byte for byte', () => {
    const checkpoint = parseCheckpoint(SPEC_BODY);
    expect(checkpoint).toEqual({ origin: 'example.com/behind-the-sofa', size: 20852163, root: ROOT });
    expect(formatCheckpoint(checkpoint)).toBe(SPEC_BODY);
  });

  it('formats the empty tree as size 0', () => {
    expect(formatCheckpoint({ origin: 'o', size: 0, root: ROOT })).toBe(`o\n0\n${ROOT.toString('base64')}\n`);
  });

  it('accepts non-empty extension lines and never emits them', () => {
    const checkpoint = parseCheckpoint(`${SPEC_BODY}ext one\nsecond extension\n`);
    expect(formatCheckpoint(checkpoint)).toBe(SPEC_BODY);
  });

  it.each([
    ['no final newline', SPEC_BODY.slice(0, -1)],
    ['two lines', 'o\n1\n'],
    ['empty origin', `\n1\n${ROOT.toString('base64')}\n`],
    ['leading zero', `o\n01\n${ROOT.toString('base64')}\n`],
    ['sign', `o\n+1\n${ROOT.toString('base64')}\n`],
    ['negative', `o\n-1\n${ROOT.toString('base64')}\n`],
    ['hex size', `o\n0x10\n${ROOT.toString('base64')}\n`],
    ['exponent', `o\n1e3\n${ROOT.toString('base64')}\n`],
    ['spaces', `o\n 1\n${ROOT.toString('base64')}\n`],
    ['above 2^53-1', `o\n9007199254740992\n${ROOT.toString('base64')}\n`],
    ['31-byte root', `o\n1\n${ROOT.subarray(1).toString('base64')}\n`],
    ['33-byte root', `o\n1\n${Buffer.concat([ROOT, Buffer.of(0)]).toString('base64')}\n`],
    ['unpadded root', `o\n1\n${ROOT.toString('base64').replace('=', '')}\n`],
    ['base64url root', `o\n1\n${ROOT.toString('base64url')}=\n`],
    ['non-zero trailing bits', 'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n'],
    ['empty extension line', `${SPEC_BODY}\n`],
    ['CR', SPEC_BODY.replace('\n', '\r\n')],
    ['lone surrogate', `o\ud800\n1\n${ROOT.toString('base64')}\n`],
  ])('rejects a body with %s', (_what, text) => {
    expect(codeOf(() => parseCheckpoint(text))).toBe('LEDGER_CHECKPOINT_MALFORMED');
  });

  it('accepts the largest safe size', () => {
    expect(parseCheckpoint(`o\n9007199254740991\n${ROOT.toString('base64')}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each<[string, Checkpoint]>([
    ['empty origin', { origin: '', size: 1, root: ROOT }],
    ['origin with newline', { origin: 'a\nb', size: 1, root: ROOT }],
    ['origin with CR', { origin: 'a\rb', size: 1, root: ROOT }],
    ['lone surrogate', { origin: 'a\udfff', size: 1, root: ROOT }],
    ['negative size', { origin: 'o', size: -1, root: ROOT }],
    ['fractional size', { origin: 'o', size: 1.5, root: ROOT }],
    ['unsafe size', { origin: 'o', size: 2 ** 53, root: ROOT }],
    ['short root', { origin: 'o', size: 1, root: Buffer.alloc(31) }],
  ])('refuses to format a checkpoint with %s', (_what, checkpoint) => {
    expect(codeOf(() => formatCheckpoint(checkpoint))).toBe('LEDGER_INVALID_INPUT');
  });

  const arbCheckpoint = fc.record({
    origin: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f]/.test(s)),
    size: fc.maxSafeNat(),
    root: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
  });

  it('round-trips every valid checkpoint (property)', () => {
    fc.assert(
      fc.property(arbCheckpoint, (checkpoint) => {
        expect(parseCheckpoint(formatCheckpoint(checkpoint))).toEqual(checkpoint);
      }),
      { numRuns: 500 },
    );
  });
});

describe('signCheckpoint / openCheckpoint', () => {
  const checkpoint: Checkpoint = { origin: 'phi-audit/access-events/0', size: 1234, root: ROOT };

  it('signs as a note whose text is the checkpoint body', () => {
    const note = signCheckpoint(checkpoint, SIGNER);
    expect(note.startsWith(`${formatCheckpoint(checkpoint)}\n— phi-audit/access-events/0 `)).toBe(true);
    const opened = openCheckpoint(note, [VERIFIER]);
    expect(opened.checkpoint).toEqual(checkpoint);
    expect(opened.verifiedBy).toEqual([VERIFIER]);
  });

  it('rejects a checkpoint signed by an unknown key', () => {
    const other = parseSignerKey(generateNoteKey('phi-audit/access-events/0').signerKey);
    expect(codeOf(() => openCheckpoint(signCheckpoint(checkpoint, other), [VERIFIER]))).toBe('LEDGER_NOTE_UNVERIFIED');
  });

  it('rejects a well-signed note whose text is not a checkpoint', () => {
    const resigned = signNote('phi-audit/access-events/0\n01234\n' + ROOT.toString('base64') + '\n', [SIGNER]);
    expect(codeOf(() => openCheckpoint(resigned, [VERIFIER]))).toBe('LEDGER_CHECKPOINT_MALFORMED');
  });

  it('fails on any single flipped byte of a signed checkpoint (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          origin: fc.stringMatching(/^[a-z0-9./-]{1,30}$/),
          size: fc.maxSafeNat(),
          root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (cp, position, mask) => {
          const note = Buffer.from(signCheckpoint({ ...cp, root: Buffer.from(cp.root) }, SIGNER), 'utf8');
          const index = position % note.length;
          note[index] = (note[index] ?? 0) ^ mask;
          expect(() => openCheckpoint(note.toString('utf8'), [VERIFIER])).toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });
});
