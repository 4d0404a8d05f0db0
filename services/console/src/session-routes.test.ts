import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from './session-cookie.js';
import { authHeaders, createConsoleFixture, USERS, type ConsoleFixture } from './testing/console-fixture.js';

const SECOND = 1000;
let f: ConsoleFixture;
afterEach(async () => {
  await f.close();
});

const me = (cookie: string) => f.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } });

describe('login', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and returns the user and a CSRF token', async () => {
    f = await createConsoleFixture();
    const { response, csrf } = await f.login('privacy_officer');
    const body = response.json();
    expect(body).toMatchObject({ username: 'po.a', role: 'privacy_officer', tenants: ['tenant-a'] });
    expect(csrf.length).toBeGreaterThan(20);
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.secure).toBeUndefined(); // plain http here; Secure when the request is https
    expect(body).not.toHaveProperty('token');
  });

  it('answers a wrong password and an unknown user alike', async () => {
    f = await createConsoleFixture();
    const wrong = await f.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { username: 'po.a', password: 'not the password' },
    });
    const unknown = await f.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { username: 'nobody', password: 'not the password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('CONSOLE_LOGIN_FAILED');
    expect(unknown.json().error.message).toBe(wrong.json().error.message);
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('throttles repeated failures with 429 and Retry-After', async () => {
    f = await createConsoleFixture({ settings: { throttleFreeFailures: 2 } });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await f.app.inject({
        method: 'POST',
        url: '/api/session',
        payload: { username: 'po.a', password: `wrong guess ${i}` },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        retryAfter = String(res.headers['retry-after']);
        expect(res.json().error.code).toBe('CONSOLE_LOGIN_THROTTLED');
      }
    }
    expect(statuses.slice(0, 2)).toEqual([401, 401]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('rejects a malformed body with 400 without echoing it', async () => {
    f = await createConsoleFixture();
    const res = await f.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { username: 'po.a', password: 'secret-pw-value', extra: 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CONSOLE_BAD_REQUEST');
    expect(res.body).not.toContain('secret-pw-value');
  });
});

describe('session lifetime', () => {
  it('ends after the idle timeout, and a request in time slides it', async () => {
    f = await createConsoleFixture({ settings: { idleTimeoutMs: 60 * SECOND, absoluteTimeoutMs: 3600 * SECOND } });
    const { cookie } = await f.login('auditor');
    f.clock.now += 50 * SECOND;
    expect((await me(cookie)).statusCode).toBe(200);
    f.clock.now += 50 * SECOND; // 100 s after login, 50 s after the last use
    expect((await me(cookie)).statusCode).toBe(200);
    f.clock.now += 61 * SECOND;
    const expired = await me(cookie);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('CONSOLE_UNAUTHENTICATED');
  });

  it('ends at the absolute timeout however busy', async () => {
    f = await createConsoleFixture({ settings: { idleTimeoutMs: 60 * SECOND, absoluteTimeoutMs: 180 * SECOND } });
    const { cookie } = await f.login('investigator');
    for (let t = 0; t < 3; t++) {
      f.clock.now += 50 * SECOND;
      expect((await me(cookie)).statusCode).toBe(200);
    }
    f.clock.now += 40 * SECOND; // 190 s after login, 40 s after the last use
    expect((await me(cookie)).statusCode).toBe(401);
  });

  it('logout (with the CSRF token) revokes the session and clears the cookie', async () => {
    f = await createConsoleFixture();
    const session = await f.login('admin');
    const out = await f.app.inject({ method: 'DELETE', url: '/api/session', headers: authHeaders(session) });
    expect(out.statusCode).toBe(204);
    const cleared = out.cookies.find((c) => c.name === SESSION_COOKIE);
    expect(cleared?.value).toBe('');
    expect((await me(session.cookie)).statusCode).toBe(401);
  });

  it('unsafe methods need the CSRF token: missing or wrong → 403, and the session survives', async () => {
    f = await createConsoleFixture();
    const session = await f.login('admin');
    const other = await f.login('auditor');
    const cases: Record<string, string>[] = [
      { cookie: session.cookie },
      { cookie: session.cookie, 'x-csrf-token': 'wrong' },
      { cookie: session.cookie, 'x-csrf-token': other.csrf }, // another session's token
    ];
    for (const headers of cases) {
      const res = await f.app.inject({ method: 'DELETE', url: '/api/session', headers });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('CONSOLE_CSRF');
    }
    expect((await me(session.cookie)).statusCode).toBe(200);
  });

  it('GET /api/session and /api/tenants describe the user', async () => {
    f = await createConsoleFixture();
    const { cookie } = await f.login('privacy_officer');
    const res = await me(cookie);
    expect(res.json()).toMatchObject({ username: 'po.a', role: 'privacy_officer', tenants: ['tenant-a'] });
    expect(res.json()).not.toHaveProperty('csrfToken');
    const tenants = await f.app.inject({ method: 'GET', url: '/api/tenants', headers: { cookie } });
    expect(tenants.json()).toEqual({ tenants: ['tenant-a'] });
  });
});

describe('logs', () => {
  it('never contain the password, the session token or the CSRF token', async () => {
    f = await createConsoleFixture();
    const session = await f.login('privacy_officer');
    await f.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { username: 'po.a', password: 'a wrong password 9' },
    });
    await f.app.inject({ method: 'GET', url: '/api/session', headers: authHeaders(session) });
    await f.app.inject({ method: 'DELETE', url: '/api/session', headers: authHeaders(session) });
    const text = f.logs.join('');
    expect(f.logs.length).toBeGreaterThan(4); // the capture works
    const token = session.cookie.split('=')[1] ?? '';
    expect(token.length).toBeGreaterThan(20);
    for (const secret of [USERS.privacy_officer.password, 'a wrong password 9', token, session.csrf]) {
      expect(text).not.toContain(secret);
    }
  });
});
