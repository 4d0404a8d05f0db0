import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointKeyFiles, ensureCheckpointKey, type CheckpointKeyFiles } from './checkpoint-key.js';
import { loadOrCreateClickHouseCredentials } from './clickhouse-credentials.js';
import {
  clickhouseFiles,
  clickhouseStatus,
  purgeClickHouse,
  startClickHouse,
  stopClickHouse,
} from './clickhouse-service.js';
import { kafkaStatus, purgeKafka, startKafka, stopKafka } from './kafka-service.js';
import { resolveServicesLayout, type ServicesLayout, type ServicesLayoutOptions } from './layout.js';
import { buildServicesEnv, type ServicesEnv } from './service-env.js';
import { withStateLock } from './state-lock.js';
import type { ServiceName, ServiceStatus } from './service-status.js';

export { isServicesError, ServicesError, SERVICES_ERROR_CODES, type ServicesErrorCode } from './errors.js';
export { KAFKA_VERSION, resolveServicesLayout, type ServicesLayout, type ServicesLayoutOptions } from './layout.js';
export { formatEnvLines, type ServicesEnv } from './service-env.js';
export { LOCAL_SIGNING_KEY_NAME, type CheckpointKeyFiles } from './checkpoint-key.js';
export type { ServiceName, ServiceStatus } from './service-status.js';

/** Options shared by every services operation. */
export interface ServicesOptions extends ServicesLayoutOptions {
  /** Receives progress lines for humans (default: stderr). Never receives passwords. */
  readonly log?: (line: string) => void;
  /** How long to wait for each service to answer (default 120 s for Kafka, 60 s for ClickHouse). */
  readonly timeoutMs?: number;
}

/** Result of {@link servicesUp}. */
export interface ServicesUpResult {
  readonly layout: ServicesLayout;
  readonly kafka: ServiceStatus & { readonly started: boolean };
  readonly clickhouse: ServiceStatus & { readonly started: boolean };
  /** Connection settings, to export into the environment of tests and services. */
  readonly env: ServicesEnv;
}

const stderrLog = (line: string): void => {
  process.stderr.write(`phi-audit services: ${line}\n`);
};

// Long enough for a first start that downloads the Kafka jars.
const LOCK_TIMEOUT_MS = 600_000;

/** Serialises start/stop of one service across processes sharing the state directory. */
function locked<T>(layout: ServicesLayout, name: ServiceName, fn: () => Promise<T>): Promise<T> {
  return withStateLock(join(layout.stateDir, `${name}.lock`), LOCK_TIMEOUT_MS, fn);
}

function context(options: ServicesOptions): {
  layout: ServicesLayout;
  log: (line: string) => void;
  timeout: { timeoutMs?: number };
} {
  return {
    layout: resolveServicesLayout(options),
    log: options.log ?? stderrLog,
    timeout: options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  };
}

/**
 * Starts the local Kafka broker and ClickHouse server (each only if not already running) and
 * returns their status and connection settings. Idempotent. When one service fails the other
 * is still started; the first failure is thrown afterwards.
 */
export async function servicesUp(options: ServicesOptions = {}): Promise<ServicesUpResult> {
  const { layout, log, timeout } = context(options);
  const [kafka, clickhouse] = await Promise.allSettled([
    locked(layout, 'kafka', () => startKafka({ layout, log, ...timeout })),
    locked(layout, 'clickhouse', () => startClickHouse({ layout, log, ...timeout })),
  ]);
  if (kafka.status === 'rejected') throw kafka.reason;
  if (clickhouse.status === 'rejected') throw clickhouse.reason;
  const { accounts, ...clickhouseState } = clickhouse.value;
  const checkpointKey = ensureCheckpointKey(layout);
  return {
    layout,
    kafka: kafka.value,
    clickhouse: clickhouseState,
    env: buildServicesEnv(layout, accounts, checkpointKey),
  };
}

/**
 * Connection settings of the local services without starting anything (the ClickHouse
 * passwords are created on first use). Pair with {@link startService}.
 */
export function servicesEnv(options: ServicesLayoutOptions = {}): ServicesEnv {
  const layout = resolveServicesLayout(options);
  const files = clickhouseFiles(layout);
  const credentials = loadOrCreateClickHouseCredentials(files.credentialsFile);
  return buildServicesEnv(
    layout,
    { credentials, restrictedUsers: existsSync(files.usersDFile) },
    ensureCheckpointKey(layout),
  );
}

/**
 * The local checkpoint signing key, verifier key and export directory, and whether the key
 * exists yet (`services up` creates it). Creates nothing.
 */
export function checkpointKeyStatus(
  options: ServicesLayoutOptions = {},
): CheckpointKeyFiles & { readonly created: boolean } {
  const files = checkpointKeyFiles(resolveServicesLayout(options));
  return { ...files, created: existsSync(files.signingKeyFile) };
}

/** Options of {@link servicesDown}. */
export interface ServicesDownOptions extends ServicesOptions {
  /** Also delete every service's data, configuration, passwords and logs (the jar cache stays). */
  readonly purge?: boolean;
}

/** Stops both services (SIGTERM, then SIGKILL); with `purge` deletes their state. Returns which ones were running. */
export async function servicesDown(options: ServicesDownOptions = {}): Promise<Record<ServiceName, boolean>> {
  const { layout } = context(options);
  const [kafka, clickhouse] = await Promise.all([
    locked(layout, 'kafka', () => stopKafka({ layout })),
    locked(layout, 'clickhouse', () => stopClickHouse({ layout })),
  ]);
  if (options.purge) {
    purgeKafka(layout);
    purgeClickHouse(layout);
  }
  return { kafka, clickhouse };
}

/** Status of both services: running / starting / stopped, pid, ports, version. */
export async function servicesStatus(options: ServicesOptions = {}): Promise<ServiceStatus[]> {
  const { layout } = context(options);
  return Promise.all([kafkaStatus(layout), clickhouseStatus(layout)]);
}

/** Starts one service (no-op when it runs) and waits until it answers. */
export async function startService(name: ServiceName, options: ServicesOptions = {}): Promise<ServiceStatus> {
  const { layout, log, timeout } = context(options);
  switch (name) {
    case 'kafka':
      return locked(layout, name, () => startKafka({ layout, log, ...timeout }));
    case 'clickhouse': {
      const { accounts: _accounts, ...status } = await locked(layout, name, () =>
        startClickHouse({ layout, log, ...timeout }),
      );
      return status;
    }
    default:
      return name satisfies never;
  }
}

/** Options of {@link stopService}. */
export interface StopServiceOptions extends ServicesOptions {
  /** `SIGKILL` simulates a crash (no clean shutdown). Default `SIGTERM`, escalating after `graceMs`. */
  readonly signal?: NodeJS.Signals;
  readonly graceMs?: number;
}

/** Stops one service; resolves true when it was running. */
export async function stopService(name: ServiceName, options: StopServiceOptions = {}): Promise<boolean> {
  const { layout } = context(options);
  const stop = {
    layout,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
  };
  switch (name) {
    case 'kafka':
      return locked(layout, name, () => stopKafka(stop));
    case 'clickhouse':
      return locked(layout, name, () => stopClickHouse(stop));
    default:
      return name satisfies never;
  }
}

/** Stops (optionally with SIGKILL, simulating a crash) and starts one service again; resolves once it answers. */
export async function restartService(name: ServiceName, options: StopServiceOptions = {}): Promise<ServiceStatus> {
  await stopService(name, options);
  return startService(name, options);
}
