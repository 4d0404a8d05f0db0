import { resolve } from 'node:path';
import { DEFAULT_TOPIC } from '@phi-audit/bus-kafka';
import { z } from 'zod';
import { DEFAULT_DETECTOR_DEDUPE_WINDOW, DEFAULT_REFERENCE_POLL_MS } from './detector-host.js';
import { DetectorError } from './errors.js';
import { DEFAULT_DETECTOR_GROUP_ID, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_REPLAY_HOURS } from './kafka-source.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const brokerList = z
  .string({ error: 'KAFKA_BROKERS is required: comma-separated host:port list' })
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .refine((list) => list.length > 0, 'KAFKA_BROKERS must name at least one broker')
  .refine((list) => list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), 'KAFKA_BROKERS entries must look like host:port');

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

// Messages never echo values: CLICKHOUSE_URL carries a password.
const EnvSchema = z.object({
  KAFKA_BROKERS: brokerList,
  KAFKA_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'KAFKA_TOPIC must be 1-200 characters of A-Z, a-z, 0-9, ".", "_" or "-"')
    .default(DEFAULT_TOPIC),
  // Not KAFKA_GROUP_ID: that is the ledger-writer's group, and a shared environment must not merge the two.
  DETECTOR_GROUP_ID: z.string().min(1, 'DETECTOR_GROUP_ID must not be empty').default(DEFAULT_DETECTOR_GROUP_ID),
  DETECTOR_CLIENT_ID: z.string().min(1, 'DETECTOR_CLIENT_ID must not be empty').default(DEFAULT_DETECTOR_GROUP_ID),
  KAFKA_PARTITIONS: int('KAFKA_PARTITIONS', 1, 10_000).default(6),
  KAFKA_SESSION_TIMEOUT_MS: int('KAFKA_SESSION_TIMEOUT_MS', 6_000, 300_000).default(30_000),
  CLICKHOUSE_URL: z
    .string({ error: 'CLICKHOUSE_URL is required, e.g. http://writer:password@clickhouse:8123' })
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'CLICKHOUSE_URL must be an http(s) URL'),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'CLICKHOUSE_DATABASE must be an identifier (letters, digits, "_")')
    .default('phi_audit'),
  DETECTOR_POLICY_DIR: z.string().min(1).optional(),
  DETECTOR_REPLAY_HOURS: int('DETECTOR_REPLAY_HOURS', 0, 24 * 31).default(DEFAULT_REPLAY_HOURS),
  DETECTOR_FLUSH_INTERVAL_MS: int('DETECTOR_FLUSH_INTERVAL_MS', 100, 600_000).default(DEFAULT_FLUSH_INTERVAL_MS),
  DETECTOR_REFERENCE_POLL_MS: int('DETECTOR_REFERENCE_POLL_MS', 0, 3_600_000).default(DEFAULT_REFERENCE_POLL_MS),
  DETECTOR_DEDUPE_WINDOW: int('DETECTOR_DEDUPE_WINDOW', 0, 10_000_000).default(DEFAULT_DETECTOR_DEDUPE_WINDOW),
  METRICS_PORT: int('METRICS_PORT', 0, 65_535).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
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
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

/**
 * Parses the detector's environment. Throws DETECTOR_CONFIG_INVALID listing every problem at
 * once; returns a frozen object. Empty variables count as unset.
 */
export function parseDetectorConfig(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): DetectorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
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
