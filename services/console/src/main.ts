import { mkdirSync } from 'node:fs';
import { createEventPublisher } from '@phi-audit/bus-kafka';
import { consoleFileIn, createAccountStore } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import { isEntryPoint, listenForStop, runMain } from '@phi-audit/service-runtime';
import { createClickHouseDetectionStore, createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { parseConsoleConfig } from './config.js';
import { buildConsoleApp } from './console-app.js';
import { createConsoleLogger } from './console-logger.js';
import { registerConsoleRoutes } from './routes/index.js';

/** The console's Kafka client id: its audit events are told apart from the collector's in broker logs. */
export const CONSOLE_KAFKA_CLIENT_ID = 'phi-audit-console';

/** Error fields safe to log: type and code, never a message that could quote input. */
function summarize(error: unknown): object {
  if (!(error instanceof Error)) return { err: { type: typeof error } };
  const code = (error as { code?: unknown }).code;
  return { err: { type: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message } };
}

/** Runs every close in order, even after one fails; rethrows the first failure. */
async function closeAll(closers: ReadonlyArray<() => Promise<void> | void>): Promise<void> {
  let first: { error: unknown } | undefined;
  for (const close of closers) {
    try {
      await close();
    } catch (error) {
      first ??= { error };
    }
  }
  if (first !== undefined) throw first.error;
}

/**
 * Cluster mode's console: reads the environment, opens the account store in CONSOLE_DATA_DIR,
 * the ClickHouse detection and ledger stores (alerts, decisions, evidence) and a Kafka publisher
 * for its audit events (the ledger-writer stores them like any ingested event), serves the
 * console API and /docs until SIGTERM or SIGINT, then closes everything in reverse order.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseConsoleConfig(env);
  const logger = createConsoleLogger({ level: config.logLevel });
  const stop = listenForStop<Error>({ logger, forcedExitMessage: 'console killed: in-flight requests abandoned' });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const accounts = createAccountStore({ file: consoleFileIn(config.dataDir), logger });
  const clickhouse = { url: config.clickhouseUrl, database: config.clickhouseDatabase, logger };
  const detection = createClickHouseDetectionStore(clickhouse);
  const ledger = createClickHouseLedgerStore(clickhouse);
  const publisher = createEventPublisher({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    clientId: CONSOLE_KAFKA_CLIENT_ID,
    logger,
  });
  try {
    // Every PHI view and decision is acknowledged by Kafka (all in-sync replicas) before the
    // console answers; the ledger-writer then appends it to the tenant's log in ClickHouse.
    const audit = createConsoleAuditTrail({ publish: (events) => publisher.publish(events), logger });
    const app = await buildConsoleApp({
      accounts,
      logger,
      trustProxy: config.trustProxy,
      routes: (api) => {
        registerConsoleRoutes(api, { detection, ledger, audit });
        return Promise.resolve();
      },
    });
    try {
      await app.listen({ host: config.http.host, port: config.http.port });
      logger.info(
        {
          host: config.http.host,
          port: config.http.port,
          users: accounts.userCount(),
          database: config.clickhouseDatabase,
          topic: config.kafka.topic,
        },
        'console listening',
      );
      const reason = await stop.stopped;
      logger.info(reason.kind === 'signal' ? { signal: reason.signal } : summarize(reason.error), 'console stopping');
    } finally {
      await app.close();
    }
  } finally {
    await closeAll([
      () => publisher.close(),
      () => ledger.close(),
      () => detection.close(),
      () => accounts.close(),
      () => stop.remove(),
    ]);
  }
  logger.info('console stopped');
}

if (isEntryPoint(import.meta.url)) runMain({ service: 'console', main: () => main(), summarize });
