import { createEventPublisher, ensureTopic } from '@phi-audit/bus-kafka';
import { registerReferenceRoutes } from '@phi-audit/reference-api';
import { createClickHouseDetectionStore } from '@phi-audit/store-clickhouse';
import { buildCollectorApp } from './app.js';
import { parseCollectorConfig } from './config.js';
import { openIngestKeyStore } from './ingest-keys.js';
import { createCollectorLogger } from './logger.js';

/** A running collector. */
export interface RunningCollector {
  /** `http://host:port` the collector listens on. */
  url: string;
  /** Stops accepting requests, waits for in-flight ones, then closes the Kafka producer. */
  close(): Promise<void>;
}

/**
 * The only place that wires the collector: parses `env`, opens the key store, connects the
 * publisher, listens, and closes everything on SIGINT/SIGTERM (when `handleSignals`).
 */
export async function main(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { handleSignals?: boolean } = {},
): Promise<RunningCollector> {
  const config = parseCollectorConfig(env);
  const logger = createCollectorLogger({ level: config.logLevel });
  const keys = openIngestKeyStore({ file: config.keysFile, logger });
  if (config.kafka.createTopic) {
    await ensureTopic({
      brokers: config.kafka.brokers,
      topic: config.kafka.topic,
      partitions: config.kafka.partitions,
      logger,
      clientId: `${config.kafka.clientId}-setup`,
    });
  }
  const publisher = createEventPublisher({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    clientId: config.kafka.clientId,
    logger,
    lingerMs: config.kafka.lingerMs,
  });
  const app = buildCollectorApp({ config, logger, publisher, keys });
  // Reference data goes to ClickHouse's detection tables (created by `phi-audit migrate`) when
  // configured; without it the routes exist and answer 503, saying what to set.
  const referenceStore =
    config.clickhouse === undefined
      ? undefined
      : createClickHouseDetectionStore({ url: config.clickhouse.url, database: config.clickhouse.database, logger });
  await registerReferenceRoutes(app, {
    store: referenceStore,
    authenticate: (bearer) => keys.authenticate(bearer),
    notConfiguredHint: 'set CLICKHOUSE_URL (and CLICKHOUSE_DATABASE) for the collector in cluster mode',
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await app.close();
      await referenceStore?.close();
      await publisher.close();
      logger.info({}, 'collector stopped');
    })());

  try {
    const url = await app.listen({ host: config.http.host, port: config.http.port });
    logger.info(
      {
        url,
        topic: config.kafka.topic,
        keysFile: config.keysFile,
        activeKeys: keys.size(),
        referenceData: config.clickhouse === undefined ? 'off' : config.clickhouse.database,
      },
      'collector listening',
    );
    if (options.handleSignals ?? true) {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          logger.info({ signal }, 'shutting down');
          close().then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: { message: (error as Error).message } }, 'shutdown failed');
              process.exit(1);
            },
          );
        });
      }
    }
    return { url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
