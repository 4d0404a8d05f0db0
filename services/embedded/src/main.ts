import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { errorSummary } from '@phi-audit/bus-kafka';
import {
  buildCollectorApp,
  collectorLoggerOptions,
  createCollectorMetrics,
  openIngestKeyStore,
} from '@phi-audit/collector';
import { createSqliteLedgerStore, LEDGER_FILE, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { firstRunBanner, listeningLine } from './banner.js';
import { parseEmbeddedConfig, type EmbeddedConfig } from './config.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { createEmbeddedLedger, type EmbeddedLedger } from './embedded-ledger.js';
import { createEmbeddedMetrics } from './embedded-metrics.js';
import { EmbeddedError } from './errors.js';

/** A running embedded ledger. */
export interface RunningEmbedded {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly dataDir: string;
  /** True when the ledger is new (no file before, or still empty with no ingest key): the banner was printed. */
  readonly firstRun: boolean;
  readonly ledger: EmbeddedLedger;
  readonly store: SqliteLedgerStore;
  readonly app: FastifyInstance;
  /** Stops accepting, answers in-flight requests after their commits, closes the store (WAL checkpoint), releases the lock. */
  close(): Promise<void>;
}

export interface StartEmbeddedOptions {
  config: EmbeddedConfig;
  logger: Logger;
  /** Where the banner and the listening line go. Default process.stdout. */
  out?: NodeJS.WritableStream;
}

/** The embedded service's logger: the collector's redaction, tagged `service: embedded`. */
export function createEmbeddedLogger(level: EmbeddedConfig['logLevel']): Logger {
  return pino({ ...collectorLoggerOptions(level), base: { service: 'embedded' } });
}

/**
 * Wires embedded mode: creates and locks the data directory, opens the SQLite ledger and the
 * key file in it, builds the collector app on the embedded ledger and listens. Prints the
 * first-run banner (when the ledger file is new) and the listening line to `out`.
 */
export async function startEmbedded(options: StartEmbeddedOptions): Promise<RunningEmbedded> {
  const { config, logger } = options;
  const out = options.out ?? process.stdout;
  const { dataDir } = config;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new EmbeddedError(
      'EMBEDDED_DATA_DIR_UNUSABLE',
      `cannot create the data directory ${dataDir}: ${(error as NodeJS.ErrnoException).code}`,
      { cause: error },
    );
  }
  const lock: DataDirLock = acquireDataDirLock(dataDir);
  let store: SqliteLedgerStore | undefined;
  let app: FastifyInstance | undefined;
  let openedLedger: EmbeddedLedger | undefined;
  try {
    const ledgerFile = join(dataDir, LEDGER_FILE);
    const ledgerExisted = existsSync(ledgerFile);
    const openedStore = createSqliteLedgerStore({
      file: ledgerFile,
      logger,
      ...(config.maxDbPages !== undefined ? { maxPageCount: config.maxDbPages } : {}),
    });
    store = openedStore;
    const keys = openIngestKeyStore({ file: config.collector.keysFile, logger });
    // A start that failed after creating the file (port in use, say) still counts as the first.
    const firstRun = !ledgerExisted || (keys.size() === 0 && (await openedStore.heads()).length === 0);
    const metrics = createCollectorMetrics();
    // The writer thread opens its own connection to the (now migrated) file; `store` serves reads.
    const ledger = createEmbeddedLedger({
      file: ledgerFile,
      ...(config.maxDbPages !== undefined ? { maxPageCount: config.maxDbPages } : {}),
      logger,
      metrics: createEmbeddedMetrics(metrics.registry),
    });
    openedLedger = ledger;
    const server = buildCollectorApp({ config: config.collector, logger, publisher: ledger, keys, metrics });
    app = server;
    await server.listen({ host: config.http.host, port: config.http.port }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is in use by another program' : `cannot be used (${code})`;
      throw new EmbeddedError(
        'EMBEDDED_LISTEN_FAILED',
        `port ${config.http.port} on ${config.http.host} ${why}; set PORT to another port`,
        { cause: error },
      );
    });
    const port = (server.server.address() as AddressInfo).port;
    const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
    if (firstRun) out.write(firstRunBanner({ url, dataDir }));
    out.write(listeningLine(url, dataDir));
    logger.info({ url, dataDir, firstRun, activeKeys: keys.size() }, 'embedded ledger listening');

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        try {
          await server.close(); // waits for in-flight requests, whose commits settle first
          await ledger.close();
          await openedStore.close();
        } finally {
          lock.release();
        }
        logger.info({ dataDir }, 'embedded ledger stopped');
      })());
    return { url, dataDir, firstRun, ledger, store: openedStore, app: server, close };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await openedLedger?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    lock.release();
    throw error;
  }
}

/**
 * The only place that reads the environment: parses it, starts embedded mode and, when
 * `handleSignals`, shuts down cleanly on SIGINT/SIGTERM (exit 0; exit 1 if closing failed).
 */
export async function main(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { handleSignals?: boolean; out?: NodeJS.WritableStream } = {},
): Promise<RunningEmbedded> {
  const config = parseEmbeddedConfig(env);
  const logger = createEmbeddedLogger(config.logLevel);
  const running = await startEmbedded({ config, logger, ...(options.out ? { out: options.out } : {}) });
  if (options.handleSignals ?? true) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        running.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error(errorSummary(error), 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return running;
}
