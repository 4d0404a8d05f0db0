import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  consoleFileIn,
  createAccountStore,
  type AccountStore,
  type ConsoleSettingsInput,
  type Role,
} from '@phi-audit/console-accounts';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ConsoleRoute } from '../access-control.js';
import { buildConsoleApp } from '../console-app.js';
import { createConsoleLogger } from '../console-logger.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../session-cookie.js';

/** Cheap scrypt for tests; the default cost is tested in console-accounts. */
export const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

/** One test user per role; the privacy officer, investigator and auditor hold tenant-a only. */
export const USERS: Readonly<Record<Role, { username: string; password: string; tenants: string[] }>> = {
  admin: { username: 'admin', password: 'boss password 1', tenants: ['*'] },
  privacy_officer: { username: 'po.a', password: 'officer password 1', tenants: ['tenant-a'] },
  investigator: { username: 'inv.a', password: 'investigator password 1', tenants: ['tenant-a'] },
  auditor: { username: 'aud.a', password: 'auditor password 1', tenants: ['tenant-a'] },
};

export interface ConsoleFixture {
  app: FastifyInstance;
  accounts: AccountStore;
  /** Every route the console registered. */
  routes: ConsoleRoute[];
  /** Everything the logger wrote, one JSON line each. */
  logs: string[];
  clock: { now: number };
  login(role: Role): Promise<{ cookie: string; csrf: string; response: LightMyRequestResponse }>;
  close(): Promise<void>;
}

/** A cluster-mode console app on a real SQLite account store in a temp dir, with one user per role. */
export async function createConsoleFixture(
  options: { settings?: ConsoleSettingsInput; routes?: (api: FastifyInstance) => Promise<void> } = {},
): Promise<ConsoleFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'console-app-'));
  const clock = { now: 1_800_000_000_000 };
  const accounts = createAccountStore({
    file: consoleFileIn(dir),
    now: () => clock.now,
    settings: { scrypt: FAST_SCRYPT, ...options.settings },
  });
  for (const [role, u] of Object.entries(USERS)) {
    await accounts.createUser({ username: u.username, role: role as Role, tenants: u.tenants, password: u.password });
  }
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createConsoleLogger({ level: 'trace', destination });
  const routes: ConsoleRoute[] = [];
  const app = await buildConsoleApp({
    accounts,
    logger,
    onRoute: (r) => routes.push(r),
    ...(options.routes ? { routes: options.routes } : {}),
  });
  await app.ready();
  const login = async (role: Role) => {
    const u = USERS[role];
    const response = await app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { username: u.username, password: u.password },
    });
    if (response.statusCode !== 200) throw new Error(`login of ${role} failed: ${response.statusCode}`);
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    if (cookie === undefined) throw new Error('no session cookie');
    return {
      cookie: `${SESSION_COOKIE}=${cookie.value}`,
      csrf: response.json<{ csrfToken: string }>().csrfToken,
      response,
    };
  };
  return {
    app,
    accounts,
    routes,
    logs,
    clock,
    login,
    close: async () => {
      await app.close();
      accounts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headers of an authenticated request: the cookie and, for unsafe methods, the CSRF token. */
export function authHeaders(session: { cookie: string; csrf: string }): Record<string, string> {
  return { cookie: session.cookie, [CSRF_HEADER]: session.csrf };
}
