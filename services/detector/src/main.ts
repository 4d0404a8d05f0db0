import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { errorSummary } from '@phi-audit/bus-kafka';
import { createClickHouseDetectionStore } from '@phi-audit/store-clickhouse';
import { pino } from 'pino';
import { parseDetectorConfig } from './config.js';
import { createDetectorHost } from './detector-host.js';
import type { DetectorError } from './errors.js';
import { createKafkaSource, type KafkaSource } from './kafka-source.js';
import { createDetectorMetrics } from './metrics.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { loadPolicyDir } from './policy-dir.js';

/** Log fields that could carry PHI or secrets, censored wherever they appear. */
const REDACT = [
  'event',
  '*.event',
  'patient',
  '*.patient',
  'actor',
  '*.actor',
  'explanation',
  '*.explanation',
  'value',
  '*.value',
  'url',
  '*.url',
  'clickhouseUrl',
  '*.password',
];

type StopReason = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'fatal'; error: DetectorError };

/**
 * Runs the cluster-mode detector from environment variables (Kafka consumer group → rules →
 * ClickHouse alerts) until SIGTERM or SIGINT, then stops gracefully: the batch in progress
 * finishes, the final flush is written, its offsets are committed. Rejects when the
 * configuration or a policy file is invalid, start-up fails or the consumer stops for good.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseDetectorConfig(env);
  const logger = pino({
    level: config.logLevel,
    base: { service: 'detector' },
    redact: { paths: REDACT, censor: '[redacted]' },
  });
  const { topic, groupId, clickhouseDatabase: database } = config;

  let resolveStop!: (reason: StopReason) => void;
  const stopped = new Promise<StopReason>((r) => (resolveStop = r));
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1_000) return;
      logger.warn({ signal }, 'second signal during shutdown; exiting without the final flush');
      logger.flush();
      process.exit(1);
    }
    firstSignalAt = Date.now();
    resolveStop({ kind: 'signal', signal });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // Before anything connects: a bad policy file stops the detector at once, naming the file.
  const policies = loadPolicyDir({ dir: config.policyDir, logger });
  const store = createClickHouseDetectionStore({ url: config.clickhouseUrl, database, logger });
  // The lag gauge reads the source, which needs the host, which needs the metrics.
  const sourceRef: { current?: KafkaSource } = {};
  const metrics = createDetectorMetrics({ lag: () => sourceRef.current?.lag() ?? Promise.resolve([]) });
  const host = createDetectorHost({
    store,
    policies,
    logger,
    metrics,
    referencePollMs: config.referencePollMs,
    dedupeWindow: config.dedupeWindow,
  });
  const running = createKafkaSource({
    brokers: config.brokers,
    topic,
    groupId,
    clientId: config.clientId,
    host,
    logger,
    metrics,
    partitions: config.partitions,
    replayMs: config.replayMs,
    flushIntervalMs: config.flushIntervalMs,
    sessionTimeout: config.sessionTimeoutMs,
    onFatal: (error) => resolveStop({ kind: 'fatal', error }),
  });
  sourceRef.current = running;
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.metricsPort !== undefined) {
      const started = await startMetricsServer({
        port: config.metricsPort,
        registry: metrics.registry,
        healthy: () => running.healthy,
      });
      metricsServer = started.server;
      logger.info({ port: started.port }, 'metrics on /metrics, health on /healthz');
    }
    host.start();
    const starting = running.start();
    starting.catch(() => undefined);
    const early = await Promise.race([starting.then(() => undefined), stopped]);
    if (early === undefined) {
      logger.info(
        { topic, groupId, database, replayHours: config.replayMs / 3_600_000, policyDir: config.policyDir ?? '(none)' },
        'detector started',
      );
    }
    const reason = early ?? (await stopped);
    logger.info(reason.kind === 'signal' ? { signal: reason.signal } : errorSummary(reason.error), 'detector stopping');
    if (reason.kind === 'fatal') throw reason.error;
  } finally {
    await running.close();
    await host.close();
    await metricsServer?.close();
    await store.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    logger.info({ topic, groupId }, 'detector stopped');
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
      // The logger may not exist (bad configuration): one JSON line without PHI or secrets.
      process.stderr.write(
        `${JSON.stringify({ level: 'fatal', service: 'detector', msg: 'detector failed', ...errorSummary(err) })}\n`,
      );
      process.exit(1);
    },
  );
}
