import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLedgerError } from './errors.js';
import {
  generateNoteKey,
  isValidKeyName,
  MAX_NOTE_SIGNATURES,
  noteKeyId,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
  type NoteVerifier,
} from './signed-note.js';

// Vector of the C2SP signed-note ecosystem (example.com/foo).
const FOO_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const FOO_TEXT = 'This is an example message.\n';
const FOO_NOTE = `${FOO_TEXT}\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n`;

// Vectors of Go's golang.org/x/mod/sumdb/note (note.go doc comment and note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

/** The base64 part of a key text (which may itself contain "+"). */
function keyData(keyText: string): string {
  return keyText
    .split('+')
    .slice(keyText.startsWith('PRIVATE+KEY+') ? 4 : 2)
    .join('+');
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isLedgerError(err)) return err.code;
    throw err;
  }
  return undefined;
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('parseVerifierKey', () => {
  it('parses the external vectors with their key IDs', () => {
    const foo = parseVerifierKey(FOO_VKEY);
    expect(foo.name).toBe('example.com/foo');
    expect(foo.keyId).toBe(0x530d903a);
    expect(foo.key).toBe(FOO_VKEY);
    expect(parseVerifierKey(`  ${PETER_VKEY}\n`).keyId).toBe(0xc74f20a3);
    expect(parseVerifierKey(ENOCH_VKEY).keyId).toBe(0xaf0cfe78);
  });

  it('computes key IDs as SHA-256(name ‖ "\\n" ‖ 0x01 ‖ key)[0:4]', () => {
    const pub = Buffer.from(keyData(FOO_VKEY), 'base64').subarray(1);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('example.com/foo\n'), Buffer.of(1), pub]))
      .digest()
      .readUInt32BE(0);
    expect(noteKeyId('example.com/foo', pub)).toBe(expected);
    expect(expected).toBe(0x530d903a);
  });

  it('rejects every substring and every single-byte change of a key (as Go does)', () => {
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        const part = PETER_VKEY.slice(i, j);
        // Trimming is allowed, so a substring equal to the key modulo whitespace is the key.
        if (part.trim() === PETER_VKEY) continue;
        expect(codeOf(() => parseVerifierKey(part))).toBe('LEDGER_KEY_INVALID');
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const changed =
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      expect(codeOf(() => parseVerifierKey(changed))).toBe('LEDGER_KEY_INVALID');
    }
  });

  it('rejects a wrong key length and another algorithm even with a matching key ID (Go vectors)', () => {
    const wrongLength = 'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==';
    const otherAlg = 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    expect(codeOf(() => parseVerifierKey(wrongLength))).toBe('LEDGER_KEY_INVALID');
    expect(errorOf(() => parseVerifierKey(otherAlg)).message).toMatch(/not an Ed25519 key/);
  });

  it('rejects non-canonical base64, uppercase key IDs and signer keys', () => {
    // The base64url alphabet decodes to the same bytes in node, but is not the canonical form.
    const nonCanonical = PETER_VKEY.replace('qq/LDE', 'qq_LDE');
    expect(Buffer.from(keyData(nonCanonical), 'base64')).toEqual(Buffer.from(keyData(PETER_VKEY), 'base64'));
    expect(codeOf(() => parseVerifierKey(nonCanonical))).toBe('LEDGER_KEY_INVALID');
    expect(codeOf(() => parseVerifierKey(PETER_VKEY.replace('c74f20a3', 'C74F20A3')))).toBe('LEDGER_KEY_INVALID');
    const err = errorOf(() => parseVerifierKey(PETER_SKEY));
    expect(isLedgerError(err, 'LEDGER_KEY_INVALID')).toBe(true);
    expect(err.message).not.toContain('AYEKFALV');
  });
});

describe('parseSignerKey', () => {
  it('reproduces the Go vector signature byte for byte', () => {
    const signer = parseSignerKey(PETER_SKEY);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signer.verifierKey).toBe(PETER_VKEY);
    expect(signNote(GO_TEXT, [signer])).toBe(`${GO_TEXT}\n${PETER_SIG}`);
  });

  it('rejects every substring and single-byte change of a signer key without echoing it', () => {
    const secret = keyData(PETER_SKEY);
    for (let i = 0; i <= PETER_SKEY.length; i++) {
      for (let j = i + 1; j <= PETER_SKEY.length; j++) {
        if (i === 0 && j === PETER_SKEY.length) continue;
        const err = errorOf(() => parseSignerKey(PETER_SKEY.slice(i, j)));
        expect(isLedgerError(err, 'LEDGER_KEY_INVALID')).toBe(true);
        expect(err.message).not.toContain(secret.slice(4, 12));
      }
    }
    for (let i = 0; i < PETER_SKEY.length; i++) {
      const changed =
        PETER_SKEY.slice(0, i) + String.fromCharCode(PETER_SKEY.charCodeAt(i) + 1) + PETER_SKEY.slice(i + 1);
      expect(codeOf(() => parseSignerKey(changed))).toBe('LEDGER_KEY_INVALID');
    }
  });
});

describe('generateNoteKey', () => {
  it('produces keys that parse, match each other and carry the computed key ID', () => {
    const { signerKey, verifierKey } = generateNoteKey('phi-audit.example/log0');
    const signer = parseSignerKey(signerKey);
    const verifier = parseVerifierKey(verifierKey);
    expect(signer.verifierKey).toBe(verifierKey);
    expect(verifier.keyId).toBe(signer.keyId);
    const pub = Buffer.from(keyData(verifierKey), 'base64').subarray(1);
    expect(verifier.keyId).toBe(noteKeyId('phi-audit.example/log0', pub));
    expect(verifierKey.split('+')[1]).toBe(verifier.keyId.toString(16).padStart(8, '0'));
    const msg = Buffer.from('hi');
    const sig = signer.sign(msg);
    expect(sig).toHaveLength(64);
    expect(verifier.verify(msg, sig)).toBe(true);
    expect(verifier.verify(Buffer.from('hj'), sig)).toBe(false);
  });

  it('generates a different key every time', () => {
    expect(generateNoteKey('a').verifierKey).not.toBe(generateNoteKey('a').verifierKey);
  });

  it.each(['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u0000b', 'a\u0085b', 'a\ud800'])(
    'rejects the key name %j',
    (name) => {
      expect(isValidKeyName(name)).toBe(false);
      expect(codeOf(() => generateNoteKey(name))).toBe('LEDGER_KEY_INVALID');
    },
  );

  it('accepts URL-like and non-ASCII names', () => {
    expect(isValidKeyName('example.com/log/0')).toBe(true);
    expect(isValidKeyName('journal-médical/é')).toBe(true);
  });
});

describe('openNote', () => {
  const peter = (): NoteVerifier => parseVerifierKey(PETER_VKEY);
  const enoch = (): NoteVerifier => parseVerifierKey(ENOCH_VKEY);

  it('opens the example.com/foo vector, and any changed byte makes it fail', () => {
    const foo = parseVerifierKey(FOO_VKEY);
    const opened = openNote(FOO_NOTE, [foo]);
    expect(opened.text).toBe(FOO_TEXT);
    expect(opened.signatures).toEqual([{ name: 'example.com/foo', keyId: 0x530d903a, verified: true }]);
    expect(opened.verifiedBy).toEqual([foo]);
    const bytes = Buffer.from(FOO_NOTE, 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const changed = Buffer.from(bytes);
        changed[i] = (changed[i] ?? 0) ^ mask;
        // Invalid UTF-8 decodes to U+FFFD, which changes the text just as well.
        const text = changed.toString('utf8');
        expect(() => openNote(text, [foo])).toThrow();
      }
    }
  });

  it('opens the Go vector with one known and one unknown signature', () => {
    const opened = openNote(`${GO_TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter()]);
    expect(opened.text).toBe(GO_TEXT);
    expect(opened.signatures).toEqual([
      { name: 'PeterNeumann', keyId: 0xc74f20a3, verified: true },
      { name: 'EnochRoot', keyId: 0xaf0cfe78, verified: false },
    ]);
    const both = openNote(`${GO_TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter(), enoch()]);
    expect(both.signatures.every((s) => s.verified)).toBe(true);
    expect(both.verifiedBy.map((v) => v.name)).toEqual(['PeterNeumann', 'EnochRoot']);
  });

  it('reports UNVERIFIED naming the keys that signed, without key material', () => {
    const err = errorOf(() => openNote(`${GO_TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []));
    expect(isLedgerError(err, 'LEDGER_NOTE_UNVERIFIED')).toBe(true);
    expect(err.message).toContain('PeterNeumann+c74f20a3');
    expect(err.message).toContain('EnochRoot+af0cfe78');
    expect(err.message).not.toContain('x08go');
  });

  it('ignores a signature that shares only the name or only the key ID of a trusted key', () => {
    const otherKey = generateNoteKey('PeterNeumann');
    const sameNameNote = signNote(GO_TEXT, [parseSignerKey(otherKey.signerKey)]);
    expect(codeOf(() => openNote(sameNameNote, [peter()]))).toBe('LEDGER_NOTE_UNVERIFIED');
    const renamed = `${GO_TEXT}\n${PETER_SIG.replace('PeterNeumann', 'CarmenSandiego')}`;
    expect(codeOf(() => openNote(renamed, [peter()]))).toBe('LEDGER_NOTE_UNVERIFIED');
  });

  it('rejects a bad signature from a trusted key (Go vector), even when another trusted key verifies', () => {
    const broken = PETER_SIG.slice(0, 60) + 'ABCD' + PETER_SIG.slice(60);
    const err = errorOf(() => openNote(`${GO_TEXT}\n${broken}`, [peter()]));
    expect(isLedgerError(err, 'LEDGER_NOTE_BAD_SIGNATURE')).toBe(true);
    expect(err.message).toContain('PeterNeumann+c74f20a3');
    expect(codeOf(() => openNote(`${GO_TEXT}\n${ENOCH_SIG}${broken}`, [peter(), enoch()]))).toBe(
      'LEDGER_NOTE_BAD_SIGNATURE',
    );
    // A repeated line of a trusted key is checked too (Go would skip it).
    expect(codeOf(() => openNote(`${GO_TEXT}\n${PETER_SIG}${broken}`, [peter()]))).toBe('LEDGER_NOTE_BAD_SIGNATURE');
    // A bad signature from an unknown key is ignored, as the spec requires.
    const badEnoch = ENOCH_SIG.slice(0, 60) + 'ABCD' + ENOCH_SIG.slice(60);
    expect(openNote(`${GO_TEXT}\n${PETER_SIG}${PETER_SIG}${badEnoch}`, [peter()]).verifiedBy).toHaveLength(1);
  });

  it('rejects a signature of the wrong length from a trusted key', () => {
    const short = `— PeterNeumann ${Buffer.concat([Buffer.from('c74f20a3', 'hex'), Buffer.alloc(10)]).toString('base64')}\n`;
    expect(codeOf(() => openNote(`${GO_TEXT}\n${short}`, [peter()]))).toBe('LEDGER_NOTE_BAD_SIGNATURE');
  });

  it('rejects malformed notes (Go vectors and stricter rules)', () => {
    const bad = [
      GO_TEXT,
      `${GO_TEXT}\n`,
      `${GO_TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${GO_TEXT}\n${PETER_SIG}`,
      `${GO_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${GO_TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${GO_TEXT}\n${PETER_SIG}\n`,
      `${GO_TEXT.replace('\n', '\r\n')}\n${PETER_SIG}`,
      `${GO_TEXT}\n${PETER_SIG.replace('\n', '\r\n')}`,
      `\ud800${GO_TEXT}\n${PETER_SIG}`,
      `${GO_TEXT}\n${PETER_SIG.replace('=\n', '\n')}`, // missing padding
      `${GO_TEXT}\n${PETER_SIG.replace('AM=', 'AN=')}`, // non-zero trailing bits
      `${GO_TEXT}\n${PETER_SIG.replace('x08go/', 'x08go_')}`, // base64url alphabet
      `${GO_TEXT}\n${PETER_SIG.replace(' x08go', '  x08go')}`,
      `${GO_TEXT}\n${PETER_SIG.replace('— ', '-- ')}`,
      `${GO_TEXT}\n— PeterNeumann\n`,
      `${GO_TEXT}\n— PeterNeumann AAAAAA==\n`, // fewer than 5 bytes
      `${GO_TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`,
    ];
    for (const note of bad) {
      expect({ note, code: codeOf(() => openNote(note, [peter()])) }).toEqual({ note, code: 'LEDGER_NOTE_MALFORMED' });
    }
    expect(openNote(`${GO_TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES)}`, [peter()]).signatures).toHaveLength(
      MAX_NOTE_SIGNATURES,
    );
  });

  it('splits at the last blank line, so texts may contain blank lines', () => {
    const signer = parseSignerKey(PETER_SKEY);
    const text = 'first\n\nsecond\n\n— not a signature line\n';
    const note = signNote(text, [signer]);
    expect(openNote(note, [peter()]).text).toBe(text);
  });

  it('throws LEDGER_KEY_INVALID for two different trusted keys with the same name and key ID', () => {
    const fake: NoteVerifier = { ...peter(), key: 'PeterNeumann+c74f20a3+other', verify: () => true };
    expect(codeOf(() => openNote(`${GO_TEXT}\n${PETER_SIG}`, [peter(), fake]))).toBe('LEDGER_KEY_INVALID');
    // The same key configured twice is not ambiguous.
    expect(openNote(`${GO_TEXT}\n${PETER_SIG}`, [peter(), peter()]).verifiedBy).toHaveLength(1);
  });
});

describe('signNote', () => {
  it('round-trips through openNote with two signatures', () => {
    const a = generateNoteKey('log.example/a');
    const b = generateNoteKey('log.example/b');
    const signers: NoteSigner[] = [parseSignerKey(a.signerKey), parseSignerKey(b.signerKey)];
    const text = 'hello\nworld ✓ 😀\n';
    const note = signNote(text, signers);
    expect(note.startsWith(`${text}\n— log.example/a `)).toBe(true);
    const opened = openNote(note, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]);
    expect(opened.text).toBe(text);
    expect(opened.signatures.map((s) => [s.name, s.verified])).toEqual([
      ['log.example/a', true],
      ['log.example/b', true],
    ]);
    expect(openNote(note, [parseVerifierKey(b.verifierKey)]).verifiedBy.map((v) => v.name)).toEqual(['log.example/b']);
  });

  it('supports key rotation: old signatures verify while the old key is still trusted', () => {
    const oldKey = generateNoteKey('log.example/a');
    const newKey = generateNoteKey('log.example/a');
    const oldNote = signNote('size 1\n', [parseSignerKey(oldKey.signerKey)]);
    const trusted = [parseVerifierKey(newKey.verifierKey), parseVerifierKey(oldKey.verifierKey)];
    expect(openNote(oldNote, trusted).verifiedBy.map((v) => v.key)).toEqual([oldKey.verifierKey]);
    expect(codeOf(() => openNote(oldNote, [parseVerifierKey(newKey.verifierKey)]))).toBe('LEDGER_NOTE_UNVERIFIED');
    const newNote = signNote('size 2\n', [parseSignerKey(newKey.signerKey)]);
    expect(openNote(newNote, trusted).verifiedBy.map((v) => v.key)).toEqual([newKey.verifierKey]);
  });

  it.each(['', 'no newline', 'cr\r\n', 'nul\u0000\n', 'tab\t\n', '\udc00\n'])('rejects the text %j', (text) => {
    expect(codeOf(() => signNote(text, [parseSignerKey(PETER_SKEY)]))).toBe('LEDGER_NOTE_MALFORMED');
  });

  it('needs at least one signer and valid signer names', () => {
    expect(codeOf(() => signNote('x\n', []))).toBe('LEDGER_NOTE_MALFORMED');
    const signer = parseSignerKey(PETER_SKEY);
    const badName: NoteSigner = { ...signer, name: 'bad name', sign: (m) => signer.sign(m) };
    expect(codeOf(() => signNote('x\n', [badName]))).toBe('LEDGER_KEY_INVALID');
  });
});
