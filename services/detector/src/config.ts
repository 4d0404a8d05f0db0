import { resolve } from 'node:path';
import { DEFAULT_TOPIC } from '@phi-audit/bus-kafka';
import {
  boundedIntEnv as int,
  clickhouseDatabaseEnv,
  clickhouseUrlEnv,
  envProblems,
  kafkaBrokersEnv,
  kafkaTopicEnv,
  logLevelEnv,
  presentEnv,
  type LogLevel,
} from '@phi-audit/service-runtime';
import { z } from 'zod';
import { DEFAULT_DETECTOR_DEDUPE_WINDOW, DEFAULT_REFERENCE_POLL_MS } from './detector-host.js';
import { DetectorError } from './errors.js';
import { DEFAULT_DETECTOR_GROUP_ID, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_REPLAY_HOURS } from './kafka-source.js';

// Messages never echo values: CLICKHOUSE_URL carries a password.
const EnvSchema = z.object({
  KAFKA_BROKERS: kafkaBrokersEnv,
  KAFKA_TOPIC: kafkaTopicEnv(DEFAULT_TOPIC),
  // Not KAFKA_GROUP_ID: that is the ledger-writer's group, and a shared environment must not merge the two.
  DETECTOR_GROUP_ID: z.string().min(1, 'DETECTOR_GROUP_ID must not be empty').default(DEFAULT_DETECTOR_GROUP_ID),
  DETECTOR_CLIENT_ID: z.string().min(1, 'DETECTOR_CLIENT_ID must not be empty').default(DEFAULT_DETECTOR_GROUP_ID),
  KAFKA_PARTITIONS: int('KAFKA_PARTITIONS', 1, 10_000).default(6),
  KAFKA_SESSION_TIMEOUT_MS: int('KAFKA_SESSION_TIMEOUT_MS', 6_000, 300_000).default(30_000),
  CLICKHOUSE_URL: clickhouseUrlEnv,
  CLICKHOUSE_DATABASE: clickhouseDatabaseEnv,
  DETECTOR_POLICY_DIR: z.string().min(1).optional(),
  DETECTOR_REPLAY_HOURS: int('DETECTOR_REPLAY_HOURS', 0, 24 * 31).default(DEFAULT_REPLAY_HOURS),
  DETECTOR_FLUSH_INTERVAL_MS: int('DETECTOR_FLUSH_INTERVAL_MS', 100, 600_000).default(DEFAULT_FLUSH_INTERVAL_MS),
  DETECTOR_REFERENCE_POLL_MS: int('DETECTOR_REFERENCE_POLL_MS', 0, 3_600_000).default(DEFAULT_REFERENCE_POLL_MS),
  DETECTOR_DEDUPE_WINDOW: int('DETECTOR_DEDUPE_WINDOW', 0, 10_000_000).default(DEFAULT_DETECTOR_DEDUPE_WINDOW),
  METRICS_PORT: int('METRICS_PORT', 0, 65_535).optional(),
  LOG_LEVEL: logLevelEnv,
});

/** The cluster-mode detector's configuration, parsed once from the environment. */
export interface DetectorConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly clientId: string;
  /** Partition count used only if the topic has to be created. */
  readonly partitions: number;
  readonly sessionTimeoutMs: number;
  /** Detection-store credentials. Never log it. */
  readonly clickhouseUrl: string;
  readonly clickhouseDatabase: string;
  /** Absolute policy directory; undefined = DEFAULT_POLICY for every tenant. */
  readonly policyDir: string | undefined;
  readonly replayMs: number;
  readonly flushIntervalMs: number;
  readonly referencePollMs: number;
  readonly dedupeWindow: number;
  readonly metricsPort?: number;
  readonly logLevel: LogLevel;
}

/**
 * Parses the detector's environment. Throws DETECTOR_CONFIG_INVALID listing every problem at
 * once; returns a frozen object. Empty variables count as unset.
 */
export function parseDetectorConfig(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): DetectorConfig {
  const present = presentEnv(env);
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = envProblems(parsed.error);
    throw new DetectorError(
      'DETECTOR_CONFIG_INVALID',
      `invalid detector configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
  const e = parsed.data;
  return Object.freeze({
    brokers: Object.freeze([...e.KAFKA_BROKERS]),
    topic: e.KAFKA_TOPIC,
    groupId: e.DETECTOR_GROUP_ID,
    clientId: e.DETECTOR_CLIENT_ID,
    partitions: e.KAFKA_PARTITIONS,
    sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
    clickhouseUrl: e.CLICKHOUSE_URL,
    clickhouseDatabase: e.CLICKHOUSE_DATABASE,
    policyDir: e.DETECTOR_POLICY_DIR !== undefined ? resolve(cwd, e.DETECTOR_POLICY_DIR) : undefined,
    replayMs: e.DETECTOR_REPLAY_HOURS * 3_600_000,
    flushIntervalMs: e.DETECTOR_FLUSH_INTERVAL_MS,
    referencePollMs: e.DETECTOR_REFERENCE_POLL_MS,
    dedupeWindow: e.DETECTOR_DEDUPE_WINDOW,
    ...(e.METRICS_PORT !== undefined ? { metricsPort: e.METRICS_PORT } : {}),
    logLevel: e.LOG_LEVEL,
  });
}
