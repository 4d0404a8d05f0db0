import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNoteKey, openNote, parseVerifierKey, signNote } from '@phi-audit/ledger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCheckpointError } from './errors.js';
import { createSigningKeyFile, loadOrCreateSigningKey, loadSigningKey, loadVerifierKeys } from './signing-key.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phi-audit-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

function secretPart(signerKey: string): string {
  return signerKey.split('+').slice(4).join('+');
}

describe('createSigningKeyFile', () => {
  it('writes the signer key 0600 and the verifier key 0644, and the pair works', () => {
    const file = join(dir, 'nested', 'checkpoint.key');
    const { verifierKey, publicFile } = createSigningKeyFile({ name: 'phi-audit/embedded', file });
    expect(publicFile).toBe(`${file}.pub`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(publicFile).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    expect(readFileSync(publicFile, 'utf8')).toBe(`${verifierKey}\n`);
    expect(readFileSync(file, 'utf8')).toMatch(/^PRIVATE\+KEY\+phi-audit\/embedded\+[0-9a-f]{8}\+.+\n$/);
    const signer = loadSigningKey({ file });
    expect(signer.verifierKey).toBe(verifierKey);
    expect(openNote(signNote('x\n', [signer]), [parseVerifierKey(verifierKey)]).verifiedBy).toHaveLength(1);
  });

  it('refuses to overwrite an existing key file', () => {
    const file = join(dir, 'checkpoint.key');
    createSigningKeyFile({ name: 'a', file });
    const before = readFileSync(file, 'utf8');
    const err = errorOf(() => createSigningKeyFile({ name: 'a', file }));
    expect(isCheckpointError(err, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
    expect(err.message).toContain('already exists');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses an invalid key name', () => {
    const err = errorOf(() => createSigningKeyFile({ name: 'bad name', file: join(dir, 'k') }));
    expect(isCheckpointError(err, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
  });
});

describe('loadSigningKey', () => {
  it('loads from key text (surrounding whitespace ignored)', () => {
    const { signerKey, verifierKey } = generateNoteKey('log.example/a');
    expect(loadSigningKey({ key: `\n${signerKey}\n` }).verifierKey).toBe(verifierKey);
    expect(loadSigningKey({ key: signerKey, file: '' }).verifierKey).toBe(verifierKey);
  });

  it('needs exactly one source', () => {
    const { signerKey } = generateNoteKey('a');
    expect(
      isCheckpointError(
        errorOf(() => loadSigningKey({})),
        'CHECKPOINT_KEY_UNAVAILABLE',
      ),
    ).toBe(true);
    expect(
      isCheckpointError(
        errorOf(() => loadSigningKey({ key: '', file: '' })),
        'CHECKPOINT_KEY_UNAVAILABLE',
      ),
    ).toBe(true);
    const both = errorOf(() => loadSigningKey({ key: signerKey, file: join(dir, 'k') }));
    expect(both.message).toContain('exactly one');
  });

  it.each([0o640, 0o604, 0o660, 0o644, 0o602, 0o620])(
    'refuses a key file with mode %o, naming the file only',
    (mode) => {
      const file = join(dir, 'checkpoint.key');
      const { signerKey } = generateNoteKey('a');
      writeFileSync(file, `${signerKey}\n`, { mode: 0o600 });
      chmodSync(file, mode);
      const err = errorOf(() => loadSigningKey({ file }));
      expect(isCheckpointError(err, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
      expect(err.message).toContain(file);
      expect(err.message).not.toContain(secretPart(signerKey).slice(0, 10));
    },
  );

  it.each([0o400, 0o600, 0o700])('accepts a key file with mode %o', (mode) => {
    const file = join(dir, 'checkpoint.key');
    const { signerKey, verifierKey } = generateNoteKey('a');
    writeFileSync(file, `${signerKey}\n`, { mode: 0o600 });
    chmodSync(file, mode);
    expect(loadSigningKey({ file }).verifierKey).toBe(verifierKey);
  });

  it('reports a missing file, a directory and a symbolic link', () => {
    expect(errorOf(() => loadSigningKey({ file: join(dir, 'missing') })).message).toContain('does not exist');
    expect(errorOf(() => loadSigningKey({ file: dir })).message).toMatch(/not a regular file|cannot be opened/);
    const target = join(dir, 'real.key');
    writeFileSync(target, `${generateNoteKey('a').signerKey}\n`, { mode: 0o600 });
    symlinkSync(target, join(dir, 'link.key'));
    expect(errorOf(() => loadSigningKey({ file: join(dir, 'link.key') })).message).toContain('symbolic link');
  });

  it('refuses a file holding something else, without echoing it', () => {
    const file = join(dir, 'checkpoint.key');
    const { signerKey, verifierKey } = generateNoteKey('a');
    const damaged = signerKey.slice(0, -2);
    writeFileSync(file, damaged, { mode: 0o600 });
    const err = errorOf(() => loadSigningKey({ file }));
    expect(isCheckpointError(err, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
    expect(err.message).not.toContain(secretPart(damaged).slice(0, 10));
    writeFileSync(file, verifierKey);
    expect(
      isCheckpointError(
        errorOf(() => loadSigningKey({ file })),
        'CHECKPOINT_KEY_UNAVAILABLE',
      ),
    ).toBe(true);
  });
});

describe('loadOrCreateSigningKey', () => {
  it('creates the key on first run and loads the same key afterwards', () => {
    const file = join(dir, 'data', 'checkpoint.key');
    const first = loadOrCreateSigningKey({ name: 'phi-audit/embedded', file });
    expect(first.created).toBe(true);
    const second = loadOrCreateSigningKey({ name: 'phi-audit/embedded', file });
    expect(second.created).toBe(false);
    expect(second.signer.verifierKey).toBe(first.signer.verifierKey);
    expect(readFileSync(`${file}.pub`, 'utf8')).toBe(`${first.signer.verifierKey}\n`);
  });

  it('still refuses an existing key file that is group-readable', () => {
    const file = join(dir, 'checkpoint.key');
    loadOrCreateSigningKey({ name: 'a', file });
    chmodSync(file, 0o640);
    expect(
      isCheckpointError(
        errorOf(() => loadOrCreateSigningKey({ name: 'a', file })),
        'CHECKPOINT_KEY_UNAVAILABLE',
      ),
    ).toBe(true);
  });
});

describe('loadVerifierKeys', () => {
  it('accepts key texts and key files (comments, blank lines), dropping duplicates', () => {
    const a = generateNoteKey('log.example/a');
    const b = generateNoteKey('log.example/b');
    const c = generateNoteKey('log.example/c');
    const file = join(dir, 'trusted.keys');
    writeFileSync(file, `# rotation: b is the old key\n\n  ${b.verifierKey}  \n${c.verifierKey}\n${a.verifierKey}\n`);
    const verifiers = loadVerifierKeys([a.verifierKey, file]);
    expect(verifiers.map((v) => v.key)).toEqual([a.verifierKey, b.verifierKey, c.verifierKey]);
  });

  it('names the entry that is neither a key nor a readable file', () => {
    const err = errorOf(() => loadVerifierKeys([join(dir, 'no-such-file')]));
    expect(isCheckpointError(err, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
    expect(err.message).toContain('no-such-file');
  });

  it('names the file and line of a bad key', () => {
    const file = join(dir, 'trusted.keys');
    writeFileSync(file, `${generateNoteKey('a').verifierKey}\nexample.com/x+00000000+AAAA\n`);
    const err = errorOf(() => loadVerifierKeys([file]));
    expect(isCheckpointError(err, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
    expect(err.message).toContain(`${file} line 2`);
  });

  it('refuses signer keys given as trusted keys, without echoing them', () => {
    const { signerKey } = generateNoteKey('a');
    const direct = errorOf(() => loadVerifierKeys([signerKey]));
    expect(direct.message).toContain('signer (private) key');
    expect(direct.message).not.toContain(secretPart(signerKey).slice(0, 10));
    const file = join(dir, 'trusted.keys');
    writeFileSync(file, `${signerKey}\n`);
    const inFile = errorOf(() => loadVerifierKeys([file]));
    expect(inFile.message).toContain('line 1');
    expect(inFile.message).not.toContain(secretPart(signerKey).slice(0, 10));
  });
});
