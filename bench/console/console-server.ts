import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { consoleFileIn, createAccountStore } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import {
  buildConsoleApp,
  createConsoleLogger,
  registerConsoleRoutes,
  SESSION_COOKIE,
  type ConsoleRouteDeps,
} from '@phi-audit/console';
import type { LedgerFeed } from './ledger-feed.js';

/**
 * The cluster-mode console server (buildConsoleApp + registerConsoleRoutes) listening on a
 * loopback port, over one benchmark target's stores, with one logged-in admin session. Its
 * audit trail publishes through the target's ledger feed: every view is chained and appended
 * to the target's own ledger before the answer is sent, as "audit before disclose" requires.
 */
export interface BenchConsole {
  url: string;
  /** GET `path` (under /api) with the session; resolves with the status once the body is read. */
  get(path: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const USERNAME = 'bench.admin';
const PASSWORD = 'benchmark admin password 1';

export async function startBenchConsole(stores: {
  ledger: ConsoleRouteDeps['ledger'];
  detection: ConsoleRouteDeps['detection'];
  feed: LedgerFeed;
}): Promise<BenchConsole> {
  const dir = mkdtempSync(join(tmpdir(), 'phi-bench-console-'));
  const accounts = createAccountStore({ file: consoleFileIn(dir) });
  await accounts.createUser({ username: USERNAME, role: 'admin', tenants: ['*'], password: PASSWORD });
  // The service's logger and level (info: one line per report), written nowhere.
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const logger = createConsoleLogger({ level: 'info', destination: discard });
  const audit = createConsoleAuditTrail({ publish: (events) => stores.feed.publish(events) });
  const app = await buildConsoleApp({
    accounts,
    logger,
    routes: async (api) => registerConsoleRoutes(api, { ledger: stores.ledger, detection: stores.detection, audit }),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const login = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  if (!cookie.startsWith(`${SESSION_COOKIE}=`)) throw new Error('no session cookie');
  return {
    url,
    get: async (path) => {
      const response = await fetch(`${url}/api${path}`, { headers: { cookie } });
      return { status: response.status, body: await response.text() };
    },
    close: async () => {
      await app.close();
      accounts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
