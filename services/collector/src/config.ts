import { z } from 'zod';
import { DEFAULT_TOPIC } from '@phi-audit/bus-kafka';
import { clickhouseDatabaseEnv, clickhouseUrlEnv, LOG_LEVELS, type LogLevel } from '@phi-audit/service-runtime';
import { DEFAULT_KEYS_FILE } from './ingest-keys.js';

const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max);

const EnvSchema = z.object({
  KAFKA_BROKERS: z
    .string({ error: 'is required (comma-separated host:port list, e.g. 127.0.0.1:9092)' })
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    )
    .pipe(
      z
        .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port'))
        .min(1, 'must list at least one broker'),
    ),
  KAFKA_TOPIC: z.string().min(1).default(DEFAULT_TOPIC),
  KAFKA_CLIENT_ID: z.string().min(1).default('phi-audit-collector'),
  /** Partitions of the topic when the collector creates it (never changed for an existing topic). */
  KAFKA_PARTITIONS: int(1, 1000).default(6),
  /** Create the topic at startup when missing (single-broker and dev setups). */
  KAFKA_CREATE_TOPIC: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  COLLECTOR_HOST: z.string().min(1).default('127.0.0.1'),
  COLLECTOR_PORT: int(0, 65535).default(8080),
  PHI_AUDIT_KEYS_FILE: z.string().min(1).default(DEFAULT_KEYS_FILE),
  /** Limit on the body as sent and, for gzip, as decompressed. 5,000 maximal events fit. */
  COLLECTOR_MAX_BODY_BYTES: int(1_024, 256 * 1024 * 1024).default(32 * 1024 * 1024),
  COLLECTOR_MAX_EVENTS: int(1, 5_000).default(5_000),
  /** Oldest accepted occurredAt, in days before the server's clock. */
  COLLECTOR_MAX_EVENT_AGE_DAYS: int(1, 3_650).default(30),
  /** Clock skew allowance for occurredAt after the server's clock, in seconds. */
  COLLECTOR_MAX_CLOCK_SKEW_SECONDS: int(0, 86_400).default(300),
  COLLECTOR_LINGER_MS: int(0, 1_000).default(2),
  COLLECTOR_RETRY_AFTER_SECONDS: int(1, 3_600).default(5),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /**
   * The detection store for reference data (same variables and rules as the ledger writer's).
   * Optional: without it the reference API answers 503. Messages never echo it (it carries a password).
   */
  CLICKHOUSE_URL: clickhouseUrlEnv.optional(),
  CLICKHOUSE_DATABASE: clickhouseDatabaseEnv,
});

/** The collector's configuration, frozen. */
export interface CollectorConfig {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly clientId: string;
    readonly createTopic: boolean;
    readonly partitions: number;
    readonly lingerMs: number;
  };
  readonly http: { readonly host: string; readonly port: number };
  readonly keysFile: string;
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxEvents: number;
    readonly maxPastMs: number;
    readonly maxFutureMs: number;
  };
  readonly retryAfterSeconds: number;
  /** ClickHouse holding reference data (CLICKHOUSE_URL, CLICKHOUSE_DATABASE); absent → reference API 503. Never log the URL. */
  readonly clickhouse?: { readonly url: string; readonly database: string };
  readonly logLevel: LogLevel;
}

/** Thrown when the environment is unusable; the message lists every problem. */
export class CollectorConfigError extends Error {
  override readonly name = 'CollectorConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid collector configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment once; reports every problem at once. Empty values count as unset. */
export function parseCollectorConfig(env: Readonly<Record<string, string | undefined>>): CollectorConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new CollectorConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const config: CollectorConfig = {
    kafka: Object.freeze({
      brokers: Object.freeze(e.KAFKA_BROKERS),
      topic: e.KAFKA_TOPIC,
      clientId: e.KAFKA_CLIENT_ID,
      createTopic: e.KAFKA_CREATE_TOPIC,
      partitions: e.KAFKA_PARTITIONS,
      lingerMs: e.COLLECTOR_LINGER_MS,
    }),
    http: Object.freeze({ host: e.COLLECTOR_HOST, port: e.COLLECTOR_PORT }),
    keysFile: e.PHI_AUDIT_KEYS_FILE,
    limits: Object.freeze({
      maxBodyBytes: e.COLLECTOR_MAX_BODY_BYTES,
      maxEvents: e.COLLECTOR_MAX_EVENTS,
      maxPastMs: e.COLLECTOR_MAX_EVENT_AGE_DAYS * 86_400_000,
      maxFutureMs: e.COLLECTOR_MAX_CLOCK_SKEW_SECONDS * 1_000,
    }),
    retryAfterSeconds: e.COLLECTOR_RETRY_AFTER_SECONDS,
    ...(e.CLICKHOUSE_URL !== undefined
      ? { clickhouse: Object.freeze({ url: e.CLICKHOUSE_URL, database: e.CLICKHOUSE_DATABASE }) }
      : {}),
    logLevel: e.LOG_LEVEL,
  };
  return Object.freeze(config);
}
