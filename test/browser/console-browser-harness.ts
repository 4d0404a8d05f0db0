import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createKeyWithCli, startEmbeddedCli } from '../harness/embedded-cli.js';
import { CLI, REPO_ROOT, runCli, waitFor, type CliProcess } from '../harness/processes.js';

/**
 * Browser tests of the console against the REAL product: the built CLI's `phi-audit start`
 * (embedded mode) on a temp data dir, demo data with planted scenarios, accounts created with
 * `phi-audit users create --password-stdin`, and Debian's Chromium driven by playwright-core
 * (never a downloaded browser). Shared by every console browser test file.
 */

/** Debian's Chromium; playwright-core drives it over CDP. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'screenshots');
export const DEMO_TENANT = 'demo-clinic';

/**
 * Whether browser tests can run. Without Chromium they are skipped on a developer machine and
 * fail under CI=true (like hasServices in test/support/services.ts).
 */
export function browserAvailability(): { run: boolean; missing?: string } {
  if (existsSync(CHROMIUM)) return { run: true };
  const missing = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
  return { run: process.env.CI === 'true', missing };
}

export interface ConsoleUserSpec {
  username: string;
  role: 'admin' | 'privacy_officer' | 'investigator' | 'auditor';
  password: string;
}

/** The first console account must be an admin; startProduct creates this one before the others. */
export const ADMIN: ConsoleUserSpec = { username: 'admin', role: 'admin', password: 'correct horse battery 41' };
/** The console users the browser tests log in as. */
export const OFFICER: ConsoleUserSpec = {
  username: 'officer',
  role: 'privacy_officer',
  password: 'blue kettle morning 12',
};
export const INVESTIGATOR: ConsoleUserSpec = {
  username: 'inv',
  role: 'investigator',
  password: 'green lamp harbour 34',
};
export const AUDITOR: ConsoleUserSpec = { username: 'auditor', role: 'auditor', password: 'quiet river ledger 56' };

export interface RunningProduct {
  url: string;
  dataDir: string;
  /** An ingest key of the demo tenant (source `ehr`). */
  ingestKey: string;
  process: CliProcess;
  close(): Promise<void>;
}

/** Creates a console account with the CLI (password on stdin) for the demo tenant. */
export function createUser(dataDir: string, user: ConsoleUserSpec, tenant = DEMO_TENANT): void {
  const tenants = user.role === 'admin' ? [] : ['--tenant', tenant];
  const created = spawnSync(
    process.execPath,
    [
      ...[CLI, 'users', 'create', '--data', dataDir, '--username', user.username, '--role', user.role],
      ...[...tenants, '--password-stdin'],
    ],
    { input: `${user.password}\n`, encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`users create ${user.username}: ${created.stderr}`);
}

export interface StartProductOptions {
  users: readonly ConsoleUserSpec[];
  /** Planted snooping scenarios per simulated day. Default 8. */
  scenarios?: number;
  /** Simulated days. Default 3. */
  days?: number;
  /** Alerts to wait for (seen by the first privacy officer or admin through the API). Default 10. */
  minAlerts?: number;
}

/** A logged-in API client for the harness's own checks (not the browser's session). */
export async function apiLogin(url: string, user: ConsoleUserSpec): Promise<(path: string) => Promise<unknown>> {
  const login = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  if (!login.ok) throw new Error(`login ${user.username}: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { cookie } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
}

/**
 * `phi-audit start` on a fresh data dir, the clinic demo with planted scenarios, the given
 * accounts, and alerts raised by the detector before it resolves.
 */
export async function startProduct(options: StartProductOptions): Promise<RunningProduct> {
  const root = mkdtempSync(join(tmpdir(), 'phi-console-browser-'));
  const dataDir = join(root, 'data');
  const started = await startEmbeddedCli({ dataDir, env: { LOG_LEVEL: 'warn' } });
  const close = async () => {
    await started.process.stopWithin(10_000);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const { url } = started;
    const key = await createKeyWithCli(dataDir, '--tenant', DEMO_TENANT, '--source', 'ehr');
    for (const user of [ADMIN, ...options.users.filter((u) => u.username !== ADMIN.username)]) {
      createUser(dataDir, user);
    }
    await new Promise((r) => setTimeout(r, 1_500)); // the running server re-reads the key file each second
    const demo = await runCli([
      'demo',
      ...['--url', url, '--key', key, '--profile', 'clinic', '--seed', '7', '--since', String(options.days ?? 3)],
      ...['--scenarios', String(options.scenarios ?? 8), '--rate', '5000', '--batch', '500', '--duration', '3'],
    ]);
    if (demo.code !== 0) throw new Error(`phi-audit demo exited ${String(demo.code)}:\n${demo.output}`);
    const reviewer = options.users.find((u) => u.role === 'privacy_officer' || u.role === 'admin');
    if (reviewer !== undefined) {
      const api = await apiLogin(url, reviewer);
      const want = options.minAlerts ?? 10;
      await waitFor(
        `${want} alerts`,
        async () => ((await api(`/api/tenants/${DEMO_TENANT}/alerts?limit=1`)) as { total: number }).total >= want,
        60_000,
      );
    }
    return { url, dataDir, ingestKey: key, process: started.process, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A fresh browser session (own cookies and storage) with every page error and CSP report collected. */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** JS errors, CSP violations and console errors seen so far (the test asserts it stays empty). */
  problems: string[];
  /** Saves test-results/screenshots/<name>.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Console messages that are expected: Chromium logs every non-2xx fetch answer (a wrong password
 * is a 401) as "Failed to load resource". Everything else at error level is a problem.
 */
function isExpectedConsoleError(text: string): boolean {
  return /^Failed to load resource: the server responded with a status of (401|403|404|409|422|429)/.test(text);
}

export async function openSession(browser: Browser, baseUrl: string): Promise<BrowserSession> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(text)) {
      problems.push(`CSP violation: ${text}`);
    } else if (message.type() === 'error' && !isExpectedConsoleError(text)) {
      problems.push(`console error: ${text}`);
    }
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    problems,
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    close: () => context.close(),
  };
}

/** Logs `user` in through the login form and waits for the signed-in header. */
export async function logIn(page: Page, url: string, user: ConsoleUserSpec): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('header.top .user').waitFor();
}

/** What a browser test file runs against: the product, a browser, an officer's page session and API. */
export interface BrowserSuite {
  product: RunningProduct;
  browser: Browser;
  /** A page session (not logged in yet) whose JS errors and CSP violations are collected. */
  officer: BrowserSession;
  /** GET through the API as OFFICER (for checking what the UI shows). */
  api: (path: string) => Promise<unknown>;
  /** Closes the session, the browser and the product, each even if an earlier one failed to start. */
  close(): Promise<void>;
}

/** Starts the product (with OFFICER among `options.users`) and the browser side by side. */
export async function startBrowserSuite(options: StartProductOptions): Promise<BrowserSuite> {
  const [started, launched] = await Promise.allSettled([startProduct(options), launchBrowser()]);
  const product = started.status === 'fulfilled' ? started.value : undefined;
  const browser = launched.status === 'fulfilled' ? launched.value : undefined;
  if (product === undefined || browser === undefined) {
    await browser?.close();
    await product?.close();
    throw started.status === 'rejected' ? started.reason : (launched as PromiseRejectedResult).reason;
  }
  const officer = await openSession(browser, product.url);
  const api = await apiLogin(product.url, OFFICER);
  return {
    product,
    browser,
    officer,
    api,
    close: async () => {
      await officer.close();
      await browser.close();
      await product.close();
    },
  };
}
