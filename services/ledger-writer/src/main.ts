import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { errorSummary } from '@phi-audit/bus-kafka';
import { loadSigningKey } from '@phi-audit/checkpoints';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { pino } from 'pino';
import { parseLedgerWriterConfig } from './config.js';
import type { WriterError } from './errors.js';
import { createLedgerWriter } from './ledger-writer.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

/** Log fields that could carry PHI or secrets, censored wherever they appear. */
const REDACT = [
  'event',
  '*.event',
  'eventJson',
  '*.eventJson',
  'patient',
  '*.patient',
  'actor',
  '*.actor',
  'value',
  '*.value',
  'url',
  '*.url',
  'clickhouseUrl',
  '*.password',
  'signingKey',
  '*.signingKey',
  'token',
  '*.token',
  'checkpointExportToken',
];

type StopReason = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'fatal'; error: WriterError };

/**
 * Runs the ledger writer from environment variables until SIGTERM or SIGINT, then shuts down
 * gracefully (the batch in flight is stored and committed) and resolves. Rejects when the
 * configuration is invalid, start-up fails or the consumer stops for good; the entry point
 * maps that to exit code 1.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseLedgerWriterConfig(env);
  const logger = pino({
    level: config.logLevel,
    base: { service: 'ledger-writer' },
    redact: { paths: REDACT, censor: '[redacted]' },
  });
  const { topic, groupId, clickhouseDatabase: database } = config;

  let resolveStop!: (reason: StopReason) => void;
  const stopped = new Promise<StopReason>((r) => (resolveStop = r));
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Supervisors such as `timeout` signal the process and its group at once: only a signal
    // sent a while after the first means "stop now".
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1_000) return;
      logger.warn({ signal }, 'second signal during shutdown; exiting without waiting for the batch in flight');
      logger.flush();
      process.exit(1);
    }
    firstSignalAt = Date.now();
    resolveStop({ kind: 'signal', signal });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

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
    onFatal: (error) => resolveStop({ kind: 'fatal', error }),
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
    const early = await Promise.race([starting.then(() => undefined), stopped]);
    if (early === undefined)
      logger.info({ topic, groupId, database, brokers: config.brokers.length }, 'ledger-writer started');
    const reason = early ?? (await stopped);
    logger.info(
      reason.kind === 'signal' ? { signal: reason.signal } : errorSummary(reason.error),
      'ledger-writer stopping',
    );
    if (reason.kind === 'fatal') throw reason.error;
  } finally {
    await writer.close();
    await metrics?.close();
    await store.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    logger.info({ topic, groupId }, 'ledger-writer stopped');
    logger.flush();
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      // The logger may not exist (bad configuration): write one JSON line without PHI or secrets.
      process.stderr.write(
        `${JSON.stringify({ level: 'fatal', service: 'ledger-writer', msg: 'ledger-writer failed', ...errorSummary(err) })}\n`,
      );
      process.exit(1);
    },
  );
}
