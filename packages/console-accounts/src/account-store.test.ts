import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore, LoginResult } from './account-store-api.js';
import { createAccountStore } from './account-store.js';
import { consoleFileIn } from './console-layout.js';
import { isConsoleError, type ConsoleErrorCode } from './errors.js';

const MINUTE = 60_000;
const FAST = { N: 2 ** 10, r: 8, p: 1 }; // keeps the suite quick; the default cost is tested in password-hash.test.ts
const ADMIN_PW = 'the boss password 1';
const PO_PW = 'officer password 1';

let dir: string;
let clock: number;
let store: AccountStore;

function open(settings = {}): AccountStore {
  return createAccountStore({ file: consoleFileIn(dir), now: () => clock, settings: { scrypt: FAST, ...settings } });
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: ConsoleErrorCode): Promise<void> {
  await expect(typeof p === 'function' ? Promise.resolve().then(p) : p).rejects.toSatisfy((e) =>
    isConsoleError(e, code),
  );
}

function sessionOf(r: LoginResult): { token: string; csrfToken: string; expiresAt: number } {
  if (!r.ok) throw new Error(`login failed: ${r.reason}`);
  return r.session;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'console-accounts-'));
  clock = 1_800_000_000_000;
  store = open();
  await store.createUser({ username: 'admin', role: 'admin', tenants: ['*'], password: ADMIN_PW });
  await store.createUser({ username: 'po.smith', role: 'privacy_officer', tenants: ['clinic-a'], password: PO_PW });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('users', () => {
  it('creates, lists (without hashes), disables and counts', async () => {
    expect(store.userCount()).toBe(2);
    const users = store.listUsers();
    expect(users.map((u) => [u.username, u.role, u.tenants, u.disabled])).toEqual([
      ['admin', 'admin', ['*'], false],
      ['po.smith', 'privacy_officer', ['clinic-a'], false],
    ]);
    expect(JSON.stringify(users)).not.toContain('scrypt');
    store.setDisabled('po.smith', true);
    expect(store.getUser('po.smith')?.disabled).toBe(true);
    await rejectsWith(() => store.setDisabled('nobody', true), 'CONSOLE_UNKNOWN_USER');
  });

  it('enforces the account rules', async () => {
    const base = { role: 'investigator' as const, tenants: ['clinic-a'], password: 'a fine password' };
    await rejectsWith(store.createUser({ ...base, username: 'admin' }), 'CONSOLE_USER_EXISTS');
    await rejectsWith(store.createUser({ ...base, username: 'Dr Who' }), 'CONSOLE_INVALID_USER');
    await rejectsWith(store.createUser({ ...base, username: 'ab' }), 'CONSOLE_INVALID_USER');
    await rejectsWith(store.createUser({ ...base, username: 'inv', tenants: [] }), 'CONSOLE_INVALID_USER');
    await rejectsWith(store.createUser({ ...base, username: 'inv', tenants: ['*'] }), 'CONSOLE_INVALID_USER');
    await rejectsWith(store.createUser({ ...base, username: 'inv', tenants: ['Bad Tenant'] }), 'CONSOLE_INVALID_USER');
    await rejectsWith(store.createUser({ ...base, username: 'inv', role: 'root' as never }), 'CONSOLE_INVALID_USER');
    await rejectsWith(store.createUser({ ...base, username: 'inv', password: 'short' }), 'CONSOLE_WEAK_PASSWORD');
    await rejectsWith(
      store.createUser({ ...base, username: 'inv.doe', password: 'i am INV.DOE really' }),
      'CONSOLE_WEAK_PASSWORD',
    );
    const u = await store.createUser({ ...base, username: 'inv', tenants: ['clinic-b', 'clinic-a', 'clinic-b'] });
    expect(u.tenants).toEqual(['clinic-a', 'clinic-b']);
    expect(store.userCount()).toBe(3);
  });

  it('requires the first user to be an admin', async () => {
    const other = createAccountStore({ file: join(dir, 'other.sqlite'), settings: { scrypt: FAST } });
    try {
      await rejectsWith(
        other.createUser({ username: 'aud', role: 'auditor', tenants: ['clinic-a'], password: 'a fine password' }),
        'CONSOLE_ADMIN_REQUIRED',
      );
      expect(other.userCount()).toBe(0);
      await other.createUser({ username: 'root', role: 'admin', tenants: ['*'], password: 'a fine password' });
      await other.createUser({ username: 'aud', role: 'auditor', tenants: ['clinic-a'], password: 'a fine password' });
      expect(other.userCount()).toBe(2);
    } finally {
      other.close();
    }
  });

  it('refuses to disable the last enabled admin', async () => {
    await rejectsWith(() => store.setDisabled('admin', true), 'CONSOLE_LAST_ADMIN');
    await store.createUser({ username: 'admin2', role: 'admin', tenants: ['*'], password: 'second admin pw' });
    store.setDisabled('admin', true);
    expect(store.getUser('admin')?.disabled).toBe(true);
  });

  it('persists across reopen, in a 0600 file', () => {
    store.close();
    expect(statSync(consoleFileIn(dir)).mode & 0o777).toBe(0o600);
    store = open();
    expect(store.listUsers().map((u) => u.username)).toEqual(['admin', 'po.smith']);
  });
});

describe('login', () => {
  it('opens a session for the right password', async () => {
    const r = await store.login({ username: 'po.smith', password: PO_PW, ip: '10.0.0.1' });
    expect(r.ok && r.user.role).toBe('privacy_officer');
    const s = sessionOf(r);
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.token).not.toBe(s.csrfToken);
    expect(s.expiresAt).toBe(clock + 15 * MINUTE);
    expect(store.session(s.token)?.user.username).toBe('po.smith');
  });

  it('answers invalid for a wrong password and for an unknown user alike', async () => {
    expect(await store.login({ username: 'po.smith', password: 'wrong password!', ip: '10.0.0.1' })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await store.login({ username: 'nobody', password: PO_PW, ip: '10.0.0.1' })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await store.login({ username: '', password: '', ip: 'junk' })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('says disabled only to someone who knows the password, and opens no session', async () => {
    store.setDisabled('po.smith', true);
    expect(await store.login({ username: 'po.smith', password: 'wrong password!', ip: '10.0.0.1' })).toMatchObject({
      reason: 'invalid',
    });
    expect(await store.login({ username: 'po.smith', password: PO_PW, ip: '10.0.0.1' })).toEqual({
      ok: false,
      reason: 'disabled',
    });
  });

  it('throttles a username after 5 failures with exponential delays, and a success resets it', async () => {
    const attempt = (password: string, ip: string): Promise<LoginResult> =>
      store.login({ username: 'po.smith', password, ip });
    // Different addresses each time: only the username counter is in play.
    for (let i = 0; i < 5; i++) expect((await attempt('wrong password!', `10.0.1.${i}`)).ok).toBe(false);
    expect(await attempt(PO_PW, '10.0.2.1')).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 1000 });
    clock += 1000;
    expect(await attempt('wrong password!', '10.0.2.2')).toEqual({ ok: false, reason: 'invalid' }); // 6th failure
    expect(await attempt(PO_PW, '10.0.2.3')).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 2000 });
    clock += 1500;
    expect(await attempt(PO_PW, '10.0.2.4')).toMatchObject({ reason: 'throttled', retryAfterMs: 500 });
    clock += 500;
    expect((await attempt(PO_PW, '10.0.2.5')).ok).toBe(true);
    // Reset: five fresh failures pass before the delay returns.
    for (let i = 0; i < 5; i++)
      expect(await attempt('wrong password!', `10.0.3.${i}`)).toMatchObject({ reason: 'invalid' });
    expect(await attempt(PO_PW, '10.0.3.9')).toMatchObject({ reason: 'throttled' });
  });

  it('caps the delay at 15 minutes', async () => {
    for (let i = 0; i < 20; i++) {
      await store.login({ username: 'po.smith', password: 'wrong password!', ip: `10.0.4.${i}` });
      clock += 20 * MINUTE;
    }
    clock -= 20 * MINUTE;
    expect(await store.login({ username: 'po.smith', password: PO_PW, ip: '10.9.9.9' })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterMs: 15 * MINUTE,
    });
  });

  it('throttles an address spraying many usernames, unknown ones included', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await store.login({ username: `guess${i}`, password: 'whatever pass', ip: '192.0.2.7' })).toMatchObject({
        reason: 'invalid',
      });
    }
    expect(await store.login({ username: 'po.smith', password: PO_PW, ip: '192.0.2.7' })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterMs: 1000,
    });
    expect((await store.login({ username: 'po.smith', password: PO_PW, ip: '192.0.2.8' })).ok).toBe(true);
  });

  it('re-hashes a password made with weaker parameters at the next login', async () => {
    store.close();
    store = open({ scrypt: { N: 2 ** 11, r: 8, p: 1 } });
    expect((await store.login({ username: 'po.smith', password: PO_PW, ip: '10.0.0.1' })).ok).toBe(true);
    store.close();
    const raw = readFileSync(consoleFileIn(dir)); // closed: the WAL is checkpointed into the file
    expect(raw.includes('scrypt$2048$8$1$')).toBe(true);
    store = open({ scrypt: { N: 2 ** 11, r: 8, p: 1 } });
    expect((await store.login({ username: 'po.smith', password: PO_PW, ip: '10.0.0.1' })).ok).toBe(true);
  });
});

describe('sessions', () => {
  async function login(): Promise<{ token: string; csrfToken: string; expiresAt: number }> {
    return sessionOf(await store.login({ username: 'po.smith', password: PO_PW, ip: '10.0.0.1' }));
  }

  it('expire after 15 idle minutes, and each use slides the idle deadline', async () => {
    const { token } = await login();
    clock += 14 * MINUTE;
    expect(store.session(token)?.expiresAt).toBe(clock + 15 * MINUTE);
    clock += 14 * MINUTE; // 28 minutes after login, 14 after last use
    expect(store.session(token)).toBeDefined();
    clock += 15 * MINUTE;
    expect(store.session(token)).toBeUndefined();
  });

  it('end 8 hours after login however busy', async () => {
    const { token } = await login();
    for (let t = 0; t < 8 * 60 - 10; t += 10) {
      clock += 10 * MINUTE;
      expect(store.session(token)).toBeDefined();
    }
    expect(store.session(token)?.expiresAt).toBe(1_800_000_000_000 + 8 * 60 * MINUTE);
    clock += 10 * MINUTE;
    expect(store.session(token)).toBeUndefined();
  });

  it('honour configured timeouts', async () => {
    store.close();
    store = open({ idleTimeoutMs: MINUTE, absoluteTimeoutMs: 3 * MINUTE });
    const { token, expiresAt } = await login();
    expect(expiresAt).toBe(clock + MINUTE);
    clock += MINUTE;
    expect(store.session(token)).toBeUndefined();
  });

  it('check the CSRF token of their own session only', async () => {
    const a = await login();
    const b = await login();
    expect(store.checkCsrf(a.token, a.csrfToken)).toBe(true);
    expect(store.checkCsrf(a.token, b.csrfToken)).toBe(false);
    expect(store.checkCsrf(a.token, '')).toBe(false);
    expect(store.checkCsrf('not a session', a.csrfToken)).toBe(false);
    expect(store.session(a.token)?.checkCsrf(a.csrfToken)).toBe(true);
    expect(store.session(a.token)?.checkCsrf(a.token)).toBe(false);
    clock += 15 * MINUTE;
    expect(store.checkCsrf(a.token, a.csrfToken)).toBe(false); // expired session: no CSRF pass either
  });

  it('end at logout, and all of a user at revokeAll, password change or disable', async () => {
    const a = await login();
    const b = await login();
    store.logout(a.token);
    expect(store.session(a.token)).toBeUndefined();
    expect(store.session(b.token)).toBeDefined();
    expect(store.revokeAll('po.smith')).toBe(1);
    expect(store.session(b.token)).toBeUndefined();

    const c = await login();
    const admin = sessionOf(await store.login({ username: 'admin', password: ADMIN_PW, ip: '10.0.0.2' }));
    await store.setPassword('po.smith', 'a brand new password');
    expect(store.session(c.token)).toBeUndefined();
    expect(store.session(admin.token)).toBeDefined();
    expect(await store.login({ username: 'po.smith', password: PO_PW, ip: '10.0.0.1' })).toMatchObject({
      reason: 'invalid',
    });
    const d = sessionOf(await store.login({ username: 'po.smith', password: 'a brand new password', ip: '10.0.0.1' }));
    store.setDisabled('po.smith', true);
    expect(store.session(d.token)).toBeUndefined();
    store.setDisabled('po.smith', false);
    expect(store.session(d.token)).toBeUndefined(); // re-enabling does not revive old sessions
    await rejectsWith(store.setPassword('nobody', 'a brand new password'), 'CONSOLE_UNKNOWN_USER');
    await rejectsWith(store.setPassword('po.smith', 'short'), 'CONSOLE_WEAK_PASSWORD');
  });

  it('are stored as hashes only: no token, CSRF token or password in the files', async () => {
    const { token, csrfToken } = await login();
    const files = () =>
      ['', '-wal', '-shm']
        .map((s) => `${consoleFileIn(dir)}${s}`)
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f));
    const check = (): void => {
      const all = Buffer.concat(files());
      expect(all.length).toBeGreaterThan(0);
      for (const secret of [token, csrfToken, PO_PW, ADMIN_PW]) expect(all.includes(secret)).toBe(false);
      expect(all.includes('po.smith')).toBe(true); // the search itself works
    };
    check();
    store.close();
    check();
    store = open();
    expect(store.session(token)?.user.username).toBe('po.smith');
  });
});
