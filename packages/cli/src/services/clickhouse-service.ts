import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateClickHouseCredentials, type ClickHouseCredentials } from './clickhouse-credentials.js';
import { renderClickHouseConfig } from './clickhouse-config.js';
import { ensureClickHouseInstalled } from './clickhouse-install.js';
import { renderRestrictedUsers } from './clickhouse-users.js';
import { runningPid, startDetached, stopDetached } from './detached-process.js';
import { ServicesError } from './errors.js';
import type { ServicesLayout } from './layout.js';
import { waitForPortFree } from './port-check.js';
import type { ServiceStatus } from './service-status.js';
import { waitUntilReady } from './wait-until-ready.js';

const PACKAGED_CONFIG_DIR = '/etc/clickhouse-server';

/** Files of the local ClickHouse server inside the state directory. */
export function clickhouseFiles(layout: ServicesLayout) {
  const dir = join(layout.stateDir, 'clickhouse');
  return {
    dir,
    configFile: join(dir, 'config.xml'),
    usersFile: join(dir, 'users.xml'),
    usersDFile: join(dir, 'users.d', 'phi-audit.xml'),
    credentialsFile: join(dir, 'credentials.json'),
    dataDir: join(dir, 'data'),
    logDir: join(dir, 'logs'),
    pidFile: join(dir, 'clickhouse.pid'),
    outFile: join(dir, 'clickhouse.out'),
  };
}

/** Runs `SELECT version()` as the admin user over HTTP; resolves the version. */
export async function queryClickHouseVersion(port: number, timeoutMs = 2_000): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/?query=${encodeURIComponent('SELECT version()')}`, {
    headers: { 'X-ClickHouse-User': 'default' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.text()).trim();
  if (!response.ok) throw new Error(`ClickHouse answered HTTP ${response.status}: ${body.slice(0, 200)}`);
  return body;
}

/** Current state of the local ClickHouse server. */
export async function clickhouseStatus(layout: ServicesLayout): Promise<ServiceStatus> {
  const files = clickhouseFiles(layout);
  const pid = runningPid({ pidFile: files.pidFile, marker: files.configFile });
  const version =
    pid === undefined ? undefined : await queryClickHouseVersion(layout.ports.clickhouseHttp).catch(() => undefined);
  return {
    service: 'clickhouse',
    state: pid === undefined ? 'stopped' : version === undefined ? 'starting' : 'running',
    ...(pid === undefined ? {} : { pid }),
    ...(version === undefined ? {} : { version }),
    ports: {
      http: layout.ports.clickhouseHttp,
      tcp: layout.ports.clickhouseTcp,
      interserver: layout.ports.clickhouseInterserver,
    },
    logFile: join(files.logDir, 'clickhouse-server.log'),
    dataDir: files.dataDir,
  };
}

/** Credentials of the local server, plus whether the restricted accounts exist. */
export interface ClickHouseAccounts {
  readonly credentials: ClickHouseCredentials;
  readonly restrictedUsers: boolean;
}

function writeConfig(layout: ServicesLayout): ClickHouseAccounts {
  const files = clickhouseFiles(layout);
  for (const dir of [files.dir, files.dataDir, files.logDir, join(files.dir, 'users.d')])
    mkdirSync(dir, { recursive: true });
  const templateFile = join(PACKAGED_CONFIG_DIR, 'config.xml');
  if (!existsSync(templateFile)) {
    throw new ServicesError(
      'SERVICES_MISSING_DEPENDENCY',
      `${templateFile} is missing; reinstall the clickhouse-server package`,
    );
  }
  writeFileSync(
    files.configFile,
    renderClickHouseConfig({
      template: readFileSync(templateFile, 'utf8'),
      dataDir: files.dataDir,
      logDir: files.logDir,
      httpPort: layout.ports.clickhouseHttp,
      tcpPort: layout.ports.clickhouseTcp,
      interserverPort: layout.ports.clickhouseInterserver,
    }),
  );
  copyFileSync(join(PACKAGED_CONFIG_DIR, 'users.xml'), files.usersFile);
  return writeUsers(layout);
}

/**
 * (Re)writes the restricted users from the stored passwords. A running server notices the
 * change and reloads its users within seconds, so a template update needs no restart.
 */
function writeUsers(layout: ServicesLayout): ClickHouseAccounts {
  const files = clickhouseFiles(layout);
  mkdirSync(join(files.dir, 'users.d'), { recursive: true });
  const credentials = loadOrCreateClickHouseCredentials(files.credentialsFile);
  const users = renderRestrictedUsers(credentials);
  const current = existsSync(files.usersDFile) ? readFileSync(files.usersDFile, 'utf8') : undefined;
  if (current !== users) writeFileSync(files.usersDFile, users, { mode: 0o600 });
  return { credentials, restrictedUsers: true };
}

/**
 * Starts the local ClickHouse server unless it already runs: installs Debian's package when
 * missing (root only), writes a project-local copy of its config with our ports and directories
 * plus the restricted users, starts it detached and waits for `SELECT version()`.
 */
export async function startClickHouse(options: {
  layout: ServicesLayout;
  log: (line: string) => void;
  timeoutMs?: number;
}): Promise<ServiceStatus & { started: boolean; accounts: ClickHouseAccounts }> {
  const { layout, log } = options;
  const files = clickhouseFiles(layout);
  const existing = runningPid({ pidFile: files.pidFile, marker: files.configFile });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const probe = (): Promise<string> => queryClickHouseVersion(layout.ports.clickhouseHttp);
  if (existing !== undefined) {
    await waitUntilReady({ name: 'ClickHouse', pid: existing, probe, timeoutMs, logFile: files.outFile });
    return { ...(await clickhouseStatus(layout)), started: false, accounts: writeUsers(layout) };
  }
  const server = await ensureClickHouseInstalled({ log });
  for (const port of [layout.ports.clickhouseHttp, layout.ports.clickhouseTcp, layout.ports.clickhouseInterserver]) {
    if (!(await waitForPortFree(port))) {
      throw new ServicesError(
        'SERVICES_PORT_IN_USE',
        `port ${port} is taken by another process; stop it or choose other ports (PHI_AUDIT_CLICKHOUSE_HTTP_PORT, PHI_AUDIT_CLICKHOUSE_TCP_PORT, PHI_AUDIT_CLICKHOUSE_INTERSERVER_PORT)`,
      );
    }
  }
  const accounts = writeConfig(layout);
  log(`starting ClickHouse on 127.0.0.1:${layout.ports.clickhouseHttp} (HTTP) / ${layout.ports.clickhouseTcp} (TCP)`);
  const pid = startDetached({
    name: 'ClickHouse',
    command: server,
    args: [`--config-file=${files.configFile}`],
    cwd: files.dir,
    pidFile: files.pidFile,
    logFile: files.outFile,
    marker: files.configFile,
  });
  try {
    await waitUntilReady({
      name: 'ClickHouse',
      pid,
      probe,
      timeoutMs,
      logFile: `${join(files.logDir, 'clickhouse-server.err.log')} and ${files.outFile}`,
    });
  } catch (error) {
    await stopDetached({ name: 'ClickHouse', pidFile: files.pidFile, marker: files.configFile }, { graceMs: 5_000 });
    throw error;
  }
  return { ...(await clickhouseStatus(layout)), started: true, accounts };
}

/** Stops the local ClickHouse server (SIGTERM, then SIGKILL after the grace period). */
export async function stopClickHouse(options: {
  layout: ServicesLayout;
  graceMs?: number;
  signal?: NodeJS.Signals;
}): Promise<boolean> {
  const files = clickhouseFiles(options.layout);
  return stopDetached(
    { name: 'ClickHouse', pidFile: files.pidFile, marker: files.configFile },
    {
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
}

/** Deletes the server's data, configuration, passwords and logs (it must be stopped). */
export function purgeClickHouse(layout: ServicesLayout): void {
  rmSync(clickhouseFiles(layout).dir, { recursive: true, force: true });
}
