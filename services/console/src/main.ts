import { mkdirSync } from 'node:fs';
import { createEventPublisher, originFor } from '@phi-audit/bus-kafka';
import { loadVerifierKeys } from '@phi-audit/checkpoints';
import { openIngestKeyStore } from '@phi-audit/collector';
import { consoleFileIn, createAccountStore } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import { verifierKeyLabel, type NoteVerifier } from '@phi-audit/ledger';
import { registerLedgerRoutes } from '@phi-audit/ledger-api';
import { isEntryPoint, listenForStop, runMain } from '@phi-audit/service-runtime';
import { createClickHouseDetectionStore, createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { parseConsoleConfig } from './config.js';
import { buildConsoleApp } from './console-app.js';
import { ConsoleApiError } from './errors.js';
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

/** The trusted checkpoint verifier keys; a configured entry that cannot be read fails the start. */
function verifierKeysOf(entries: readonly string[]): NoteVerifier[] {
  if (entries.length === 0) return [];
  try {
    return loadVerifierKeys(entries);
  } catch (error) {
    throw new ConsoleApiError(
      'CONSOLE_CONFIG_INVALID',
      `invalid console configuration:\n  - PHI_AUDIT_VERIFIER_KEYS: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
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
 * console API and /docs, and the ledger API (/v1/ledger, for the collector's auditor keys) until
 * SIGTERM or SIGINT, then closes everything in reverse order.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseConsoleConfig(env);
  const verifierKeys = verifierKeysOf(config.verifierKeyEntries);
  const logger = createConsoleLogger({ level: config.logLevel });
  if (verifierKeys.length === 0) {
    logger.warn('PHI_AUDIT_VERIFIER_KEYS is not set: evidence export is refused and no checkpoint signature verifies');
  }
  // The collector's key file (reloaded when it changes): its auditor keys may read /v1/ledger.
  const keys = openIngestKeyStore({ file: config.keysFile, logger });
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
        registerConsoleRoutes(api, {
          detection,
          ledger,
          audit,
          verifierKeys,
          // Every partition log of the topic holds events of any tenant (keyed by tenant:user).
          tenantLogs: async () => {
            const prefix = originFor(config.kafka.topic, 0).replace(/0$/, '');
            return (await ledger.heads()).map((h) => h.origin).filter((o) => o.startsWith(prefix));
          },
        });
        return Promise.resolve();
      },
    });
    // Proofs and checkpoints beside the console, as embedded mode serves them on its port.
    await registerLedgerRoutes(app, { store: ledger, authenticate: (bearer) => keys.authenticateAuditor(bearer) });
    try {
      await app.listen({ host: config.http.host, port: config.http.port });
      logger.info(
        {
          host: config.http.host,
          port: config.http.port,
          users: accounts.userCount(),
          database: config.clickhouseDatabase,
          topic: config.kafka.topic,
          verifierKeys: verifierKeys.map(verifierKeyLabel),
          auditorKeysFile: config.keysFile,
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
