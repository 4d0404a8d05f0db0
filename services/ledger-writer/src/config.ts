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
import { WriterError } from './errors.js';

// Messages never echo values: CLICKHOUSE_URL carries the writer's password.
const EnvSchema = z.object({
  KAFKA_BROKERS: kafkaBrokersEnv,
  KAFKA_TOPIC: kafkaTopicEnv(DEFAULT_TOPIC),
  KAFKA_GROUP_ID: z.string().min(1, 'KAFKA_GROUP_ID must not be empty').default('phi-audit-ledger-writer'),
  KAFKA_CLIENT_ID: z.string().min(1, 'KAFKA_CLIENT_ID must not be empty').default('phi-audit-ledger-writer'),
  KAFKA_PARTITIONS: int('KAFKA_PARTITIONS', 1, 10_000).default(6),
  WRITER_CONCURRENCY: int('WRITER_CONCURRENCY', 1, 64).default(3),
  KAFKA_SESSION_TIMEOUT_MS: int('KAFKA_SESSION_TIMEOUT_MS', 6_000, 300_000).default(30_000),
  WRITER_DEDUPE_WINDOW: int('WRITER_DEDUPE_WINDOW', 1, 1_000_000).default(100_000),
  CLICKHOUSE_URL: clickhouseUrlEnv,
  CLICKHOUSE_DATABASE: clickhouseDatabaseEnv,
  METRICS_PORT: int('METRICS_PORT', 0, 65_535).optional(),
  LOG_LEVEL: logLevelEnv,
  PHI_AUDIT_MIGRATE: z
    .enum(['true', 'false'], { error: 'PHI_AUDIT_MIGRATE must be "true" or "false"' })
    .default('false'),
  // Key values are never echoed: both variables carry (or point at) the signing key.
  CHECKPOINT_SIGNING_KEY_FILE: z.string().optional(),
  CHECKPOINT_SIGNING_KEY: z.string().optional(),
  CHECKPOINT_EVERY_RECORDS: int('CHECKPOINT_EVERY_RECORDS', 1, 1_000_000_000).default(10_000),
  CHECKPOINT_INTERVAL_SECONDS: int('CHECKPOINT_INTERVAL_SECONDS', 1, 86_400).default(10),
  CHECKPOINT_EXPORT_DIR: z.string().optional(),
  CHECKPOINT_EXPORT_URL: z
    .string()
    .refine(
      (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
      'CHECKPOINT_EXPORT_URL must be an http(s) URL',
    )
    .optional(),
  CHECKPOINT_EXPORT_TOKEN: z.string().optional(),
});

const SIGNING_KEY_REQUIRED =
  'exactly one of CHECKPOINT_SIGNING_KEY_FILE or CHECKPOINT_SIGNING_KEY is required (a ledger without signed checkpoints cannot detect truncation); create a key with `phi-audit signing-key create`';

/** Where the checkpoint signing key comes from (loadSigningKey's options). Never log it. */
export type SigningKeySource = { readonly file: string } | { readonly key: string };

/** The ledger writer's configuration, parsed once from the environment. */
export interface LedgerWriterConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly clientId: string;
  /** Partition count used only if the topic has to be created. */
  readonly partitions: number;
  readonly concurrency: number;
  /** Consumer-group session timeout: how long a killed writer's partitions wait before reassignment. */
  readonly sessionTimeoutMs: number;
  /**
   * Duplicate window per log: an event whose (tenant, source system, event id) is among the log's
   * previous this-many records is skipped. 85–115 bytes of heap per record per log.
   */
  readonly dedupeWindow: number;
  /** Writer credentials (INSERT/SELECT only). Never log it. */
  readonly clickhouseUrl: string;
  readonly clickhouseDatabase: string;
  readonly metricsPort?: number;
  readonly logLevel: LogLevel;
  /** Run the store's migrations at start (needs DDL rights: an admin one-shot, not the writer). */
  readonly migrate: boolean;
  /** The checkpoint signing key: a file (CHECKPOINT_SIGNING_KEY_FILE) or the key text (CHECKPOINT_SIGNING_KEY). Never log it. */
  readonly signingKey: SigningKeySource;
  /** Sign a checkpoint after this many records per log (CHECKPOINT_EVERY_RECORDS). */
  readonly checkpointEveryRecords: number;
  /** …or when a log grew and its last checkpoint is this old (CHECKPOINT_INTERVAL_SECONDS), ms. */
  readonly checkpointIntervalMs: number;
  /** Directory receiving each log's latest checkpoint (CHECKPOINT_EXPORT_DIR). */
  readonly checkpointExportDir?: string;
  /** HTTP endpoint receiving each checkpoint (CHECKPOINT_EXPORT_URL). */
  readonly checkpointExportUrl?: string;
  /** Bearer token for the endpoint (CHECKPOINT_EXPORT_TOKEN). Never log it. */
  readonly checkpointExportToken?: string;
}

/**
 * Parses the writer's environment. Throws WRITER_CONFIG_INVALID listing every problem at once;
 * returns a frozen object.
 */
export function parseLedgerWriterConfig(env: Record<string, string | undefined>): LedgerWriterConfig {
  // Empty variables count as unset, as in most shells' `VAR=` usage.
  const present = presentEnv(env);
  const parsed = EnvSchema.safeParse(present);
  const problems = parsed.success ? [] : envProblems(parsed.error);
  // Checked on the raw environment so this problem is reported together with the others.
  const keyFile = present.CHECKPOINT_SIGNING_KEY_FILE;
  const keyText = present.CHECKPOINT_SIGNING_KEY;
  if ((keyFile === undefined) === (keyText === undefined)) {
    problems.push(`CHECKPOINT_SIGNING_KEY_FILE / CHECKPOINT_SIGNING_KEY: ${SIGNING_KEY_REQUIRED}`);
  }
  if (present.CHECKPOINT_EXPORT_TOKEN !== undefined && present.CHECKPOINT_EXPORT_URL === undefined) {
    problems.push('CHECKPOINT_EXPORT_TOKEN: is only used with CHECKPOINT_EXPORT_URL, which is not set');
  }
  if (!parsed.success || problems.length > 0) {
    throw new WriterError(
      'WRITER_CONFIG_INVALID',
      `invalid ledger-writer configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
  const e = parsed.data;
  const signingKey: SigningKeySource =
    e.CHECKPOINT_SIGNING_KEY_FILE !== undefined
      ? Object.freeze({ file: e.CHECKPOINT_SIGNING_KEY_FILE })
      : Object.freeze({ key: e.CHECKPOINT_SIGNING_KEY ?? '' });
  return Object.freeze({
    brokers: Object.freeze([...e.KAFKA_BROKERS]),
    topic: e.KAFKA_TOPIC,
    groupId: e.KAFKA_GROUP_ID,
    clientId: e.KAFKA_CLIENT_ID,
    partitions: e.KAFKA_PARTITIONS,
    concurrency: e.WRITER_CONCURRENCY,
    sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
    dedupeWindow: e.WRITER_DEDUPE_WINDOW,
    clickhouseUrl: e.CLICKHOUSE_URL,
    clickhouseDatabase: e.CLICKHOUSE_DATABASE,
    ...(e.METRICS_PORT !== undefined ? { metricsPort: e.METRICS_PORT } : {}),
    logLevel: e.LOG_LEVEL,
    migrate: e.PHI_AUDIT_MIGRATE === 'true',
    signingKey,
    checkpointEveryRecords: e.CHECKPOINT_EVERY_RECORDS,
    checkpointIntervalMs: e.CHECKPOINT_INTERVAL_SECONDS * 1_000,
    ...(e.CHECKPOINT_EXPORT_DIR !== undefined ? { checkpointExportDir: e.CHECKPOINT_EXPORT_DIR } : {}),
    ...(e.CHECKPOINT_EXPORT_URL !== undefined ? { checkpointExportUrl: e.CHECKPOINT_EXPORT_URL } : {}),
    ...(e.CHECKPOINT_EXPORT_TOKEN !== undefined ? { checkpointExportToken: e.CHECKPOINT_EXPORT_TOKEN } : {}),
  });
}
