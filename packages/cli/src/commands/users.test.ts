import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleFileIn, createAccountStore } from '@phi-audit/console-accounts';

// The built binary, as a user runs it (`npx tsc -b` first).
const CLI = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

function cli(args: readonly string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'users', ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, PHI_AUDIT_DATA_DIR: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('phi-audit users (built CLI)', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -b first`);
    dir = mkdtempSync(join(tmpdir(), 'cli-users-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a first user who is not an admin', () => {
    const r = cli([
      'create',
      '--data',
      dir,
      '--username',
      'po.smith',
      '--role',
      'privacy_officer',
      '--tenant',
      'clinic-a',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('create the admin first');
    expect(r.stderr).not.toContain('    at '); // no stack trace
  });

  it('creates the admin with a generated password printed once, then others, and lists them', async () => {
    const admin = cli(['create', '--data', dir, '--username', 'admin', '--role', 'admin']);
    expect(admin.code).toBe(0);
    const generated = admin.stdout.trim();
    expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(statSync(consoleFileIn(dir)).mode & 0o777).toBe(0o600);

    const po = cli(
      [
        'create',
        '--data',
        dir,
        '--username',
        'po.smith',
        '--role',
        'privacy_officer',
        '--tenant',
        'clinic-a',
        '--tenant',
        'clinic-b',
        '--password-stdin',
      ],
      'officer password 1\n',
    );
    expect(po.code).toBe(0);
    expect(po.stdout).toBe(''); // a given password is never echoed

    const weak = cli(
      ['create', '--data', dir, '--username', 'aud', '--role', 'auditor', '--tenant', 'clinic-a', '--password-stdin'],
      'short\n',
    );
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('at least 12 characters');
    expect(cli(['create', '--data', dir, '--username', 'aud', '--role', 'auditor']).stderr).toContain('--tenant');
    expect(cli(['create', '--data', dir, '--username', 'aud', '--role', 'boss', '--tenant', 'x']).stderr).toContain(
      'unknown role',
    );
    expect(cli(['create', '--data', dir, '--username', 'admin', '--role', 'admin']).stderr).toContain('already exists');

    const list = cli(['list', '--data', dir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('admin\tadmin\t*\tenabled\npo.smith\tprivacy_officer\tclinic-a,clinic-b\tenabled\n');
    expect(list.stdout).not.toContain('scrypt');

    // The passwords work where the console will check them.
    const store = createAccountStore({ file: consoleFileIn(dir) });
    try {
      expect((await store.login({ username: 'admin', password: generated, ip: '127.0.0.1' })).ok).toBe(true);
      expect((await store.login({ username: 'po.smith', password: 'officer password 1', ip: '127.0.0.1' })).ok).toBe(
        true,
      );
    } finally {
      store.close();
    }
    expect(readFileSync(consoleFileIn(dir)).includes(generated)).toBe(false);
  });

  it('disables an account and changes a password', async () => {
    expect(cli(['disable', '--data', dir, '--username', 'po.smith']).code).toBe(0);
    expect(cli(['list', '--data', dir]).stdout).toContain('po.smith\tprivacy_officer\tclinic-a,clinic-b\tdisabled');
    expect(cli(['disable', '--data', dir, '--username', 'admin']).stderr).toContain('last enabled admin');
    expect(cli(['disable', '--data', dir, '--username', 'nobody']).code).toBe(2);

    const set = cli(['set-password', '--data', dir, '--username', 'admin', '--password-stdin'], 'a new boss secret\n');
    expect(set.code).toBe(0);
    const store = createAccountStore({ file: consoleFileIn(dir) });
    try {
      expect((await store.login({ username: 'admin', password: 'a new boss secret', ip: '127.0.0.1' })).ok).toBe(true);
      expect(await store.login({ username: 'po.smith', password: 'officer password 1', ip: '127.0.0.1' })).toEqual({
        ok: false,
        reason: 'disabled',
      });
    } finally {
      store.close();
    }
  });

  it('needs a data directory', () => {
    const r = cli(['list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--data <dir>');
  });
});
