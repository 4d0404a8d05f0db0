import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedCli, type EmbeddedCli } from '../harness/embedded-cli.js';
import { CLI } from '../harness/processes.js';

// `npm start` serves the console on its own port: an admin created with `phi-audit users create
// --password-stdin` logs in over HTTP, reads its session, and the OpenAPI document is at /docs/json.
describe('e2e: the console in embedded mode', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phi-console-embedded-'));
  let running: EmbeddedCli | undefined;
  afterAll(async () => {
    await running?.process.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs in the admin, answers GET /api/session, serves /docs/json', { timeout: 120_000 }, async () => {
    running = await startEmbeddedCli({ dataDir, env: { LOG_LEVEL: 'warn' } });
    const { url } = running;
    const password = 'correct horse battery staple 7';
    const created = spawnSync(
      process.execPath,
      [CLI, 'users', 'create', '--data', dataDir, '--username', 'admin', '--role', 'admin', '--password-stdin'],
      { input: `${password}\n`, encoding: 'utf8' },
    );
    expect(created.status, created.stderr).toBe(0);

    const anonymous = await fetch(`${url}/api/session`);
    expect(anonymous.status).toBe(401);

    const login = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^phi_console=[^;]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const cookie = setCookie.split(';')[0] ?? '';

    const me = await fetch(`${url}/api/session`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username: 'admin', role: 'admin', tenants: ['*'] });

    const docs = await fetch(`${url}/docs/json`);
    expect(docs.status).toBe(200);
    const doc = (await docs.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/session');

    // The collector's routes still answer as before beside the console.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const out = await fetch(`${url}/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(out.status).toBe(204);
    expect((await fetch(`${url}/api/session`, { headers: { cookie } })).status).toBe(401);
  });
});
