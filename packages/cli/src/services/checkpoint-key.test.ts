import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningKey, loadVerifierKeys } from '@phi-audit/checkpoints';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureCheckpointKey, LOCAL_SIGNING_KEY_NAME } from './checkpoint-key.js';
import { resolveServicesLayout } from './layout.js';
import { buildServicesEnv, formatEnvLines } from './service-env.js';

describe('local checkpoint signing key', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const layout = () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'phi-audit-services-key-')), 'state');
    dirs.push(join(stateDir, '..'));
    return resolveServicesLayout({ stateDir, env: {} });
  };

  it('is created once (private, with its verifier key and an export directory) and kept afterwards', () => {
    const l = layout();
    const files = ensureCheckpointKey(l);
    expect(files).toEqual({
      signingKeyFile: join(l.stateDir, 'checkpoint-signing.key'),
      verifierKeyFile: join(l.stateDir, 'checkpoint-signing.key.pub'),
      exportDir: join(l.stateDir, 'checkpoints'),
    });
    expect(statSync(files.signingKeyFile).mode & 0o077).toBe(0);
    expect(statSync(files.exportDir).isDirectory()).toBe(true);
    const key = readFileSync(files.signingKeyFile, 'utf8');
    const signer = loadSigningKey({ file: files.signingKeyFile });
    expect(signer.name).toBe(LOCAL_SIGNING_KEY_NAME);
    expect(loadVerifierKeys([files.verifierKeyFile]).map((v) => v.key)).toEqual([signer.verifierKey]);
    // A second `services up` must not replace it: that would orphan every checkpoint signed so far.
    expect(ensureCheckpointKey(l)).toEqual(files);
    expect(readFileSync(files.signingKeyFile, 'utf8')).toBe(key);
  });

  it('is printed as eval lines next to the connection settings', () => {
    const l = layout();
    const files = ensureCheckpointKey(l);
    const env = buildServicesEnv(
      l,
      { credentials: { writerPassword: 'w', readerPassword: 'r' }, restrictedUsers: false },
      files,
    );
    const lines = formatEnvLines(env).split('\n');
    expect(lines).toContain(`CHECKPOINT_SIGNING_KEY_FILE=${files.signingKeyFile}`);
    expect(lines).toContain(`PHI_AUDIT_VERIFIER_KEYS=${files.verifierKeyFile}`);
    expect(lines).toContain(`CHECKPOINT_EXPORT_DIR=${files.exportDir}`);
  });
});
