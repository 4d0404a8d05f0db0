import { errorSummary } from '@phi-audit/bus-kafka';
import {
  createServiceLogger,
  isEntryPoint,
  listenForStop,
  runMain,
  startMetricsServer,
  type MetricsServer,
} from '@phi-audit/service-runtime';
import { createClickHouseDetectionStore } from '@phi-audit/store-clickhouse';
import { parseDetectorConfig } from './config.js';
import { createDetectorHost } from './detector-host.js';
import type { DetectorError } from './errors.js';
import { createKafkaSource, type KafkaSource } from './kafka-source.js';
import { createDetectorMetrics } from './metrics.js';
import { loadPolicyDir } from './policy-dir.js';

/** The detector's own PHI fields, censored besides the shared SERVICE_REDACT_PATHS. */
const REDACT = ['explanation', '*.explanation'];

/**
 * Runs the cluster-mode detector from environment variables (Kafka consumer group → rules →
 * ClickHouse alerts) until SIGTERM or SIGINT, then stops gracefully: the batch in progress
 * finishes, the final flush is written, its offsets are committed. Rejects when the
 * configuration or a policy file is invalid, start-up fails or the consumer stops for good.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseDetectorConfig(env);
  const logger = createServiceLogger({ service: 'detector', level: config.logLevel, redact: REDACT });
  const { topic, groupId, clickhouseDatabase: database } = config;

  const stop = listenForStop<DetectorError>({
    logger,
    forcedExitMessage: 'second signal during shutdown; exiting without the final flush',
  });

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
    onFatal: (error) => stop.fatal(error),
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
    const early = await Promise.race([starting.then(() => undefined), stop.stopped]);
    if (early === undefined) {
      logger.info(
        { topic, groupId, database, replayHours: config.replayMs / 3_600_000, policyDir: config.policyDir ?? '(none)' },
        'detector started',
      );
    }
    const reason = early ?? (await stop.stopped);
    logger.info(reason.kind === 'signal' ? { signal: reason.signal } : errorSummary(reason.error), 'detector stopping');
    if (reason.kind === 'fatal') throw reason.error;
  } finally {
    await running.close();
    await host.close();
    await metricsServer?.close();
    await store.close();
    stop.remove();
    logger.info({ topic, groupId }, 'detector stopped');
    logger.flush();
  }
}

if (isEntryPoint(import.meta.url)) runMain({ service: 'detector', main: () => main(), summarize: errorSummary });
