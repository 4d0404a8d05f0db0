import { errorSummary } from '@phi-audit/bus-kafka';
import { loadSigningKey } from '@phi-audit/checkpoints';
import {
  createServiceLogger,
  isEntryPoint,
  listenForStop,
  runMain,
  startMetricsServer,
  type MetricsServer,
} from '@phi-audit/service-runtime';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { parseLedgerWriterConfig } from './config.js';
import type { WriterError } from './errors.js';
import { createLedgerWriter } from './ledger-writer.js';

/** The writer's own PHI and secret fields, censored besides the shared SERVICE_REDACT_PATHS. */
const REDACT = ['eventJson', '*.eventJson', 'signingKey', '*.signingKey', 'token', '*.token', 'checkpointExportToken'];

/**
 * Runs the ledger writer from environment variables until SIGTERM or SIGINT, then shuts down
 * gracefully (the batch in flight is stored and committed) and resolves. Rejects when the
 * configuration is invalid, start-up fails or the consumer stops for good; the entry point
 * maps that to exit code 1.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseLedgerWriterConfig(env);
  const logger = createServiceLogger({ service: 'ledger-writer', level: config.logLevel, redact: REDACT });
  const { topic, groupId, clickhouseDatabase: database } = config;

  const stop = listenForStop<WriterError>({
    logger,
    forcedExitMessage: 'second signal during shutdown; exiting without waiting for the batch in flight',
  });

  // Before anything connects: a missing or unreadable key stops the writer at once
  // (CHECKPOINT_KEY_UNAVAILABLE names the file, never the key).
  const signer = loadSigningKey(config.signingKey);
  logger.info({ keyName: signer.name, keyId: signer.keyId }, 'checkpoint signing key loaded');
  const store = createClickHouseLedgerStore({ url: config.clickhouseUrl, database, logger });
  const writer = createLedgerWriter({
    brokers: config.brokers,
    topic,
    groupId,
    store,
    logger,
    clientId: config.clientId,
    partitions: config.partitions,
    concurrency: config.concurrency,
    sessionTimeout: config.sessionTimeoutMs,
    dedupeWindow: config.dedupeWindow,
    checkpoints: {
      signer,
      policy: { everyRecords: config.checkpointEveryRecords, intervalMs: config.checkpointIntervalMs },
      exportTo: {
        dir: config.checkpointExportDir,
        url: config.checkpointExportUrl,
        token: config.checkpointExportToken,
      },
    },
    onFatal: (error) => stop.fatal(error),
  });
  let metrics: MetricsServer | undefined;
  try {
    if (config.migrate) {
      logger.info({ database }, 'running store migrations (PHI_AUDIT_MIGRATE=true)');
      await store.migrate();
    }
    if (config.metricsPort !== undefined) {
      const started = await startMetricsServer({
        port: config.metricsPort,
        registry: writer.registry,
        healthy: () => writer.healthy,
      });
      metrics = started.server;
      logger.info({ port: started.port }, 'metrics on /metrics, health on /healthz');
    }
    // A signal during start-up (Kafka still unreachable, say) must not wait for the join.
    const starting = writer.start();
    starting.catch(() => undefined);
    const early = await Promise.race([starting.then(() => undefined), stop.stopped]);
    if (early === undefined)
      logger.info({ topic, groupId, database, brokers: config.brokers.length }, 'ledger-writer started');
    const reason = early ?? (await stop.stopped);
    logger.info(
      reason.kind === 'signal' ? { signal: reason.signal } : errorSummary(reason.error),
      'ledger-writer stopping',
    );
    if (reason.kind === 'fatal') throw reason.error;
  } finally {
    await writer.close();
    await metrics?.close();
    await store.close();
    stop.remove();
    logger.info({ topic, groupId }, 'ledger-writer stopped');
    logger.flush();
  }
}

if (isEntryPoint(import.meta.url)) runMain({ service: 'ledger-writer', main: () => main(), summarize: errorSummary });
