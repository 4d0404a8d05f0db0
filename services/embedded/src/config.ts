import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CollectorConfigError, parseCollectorConfig, type CollectorConfig } from '@phi-audit/collector';
import { KEYS_FILE } from '@phi-audit/store-sqlite';
import { EmbeddedError } from './errors.js';

const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max);

const EnvSchema = z.object({
  PORT: int(0, 65535).default(8080),
  /** Loopback by default; HOST=0.0.0.0 accepts EHRs from the network. */
  HOST: z.string().min(1).default('127.0.0.1'),
  PHI_AUDIT_DATA_DIR: z.string().min(1).default('./data'),
  /** SQLite max_page_count: a storage quota for the ledger file (pages are 4 KiB by default). */
  PHI_AUDIT_MAX_DB_PAGES: int(1, 2 ** 32 - 2).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The collector settings embedded mode honours, with the same names and defaults as the collector. */
const COLLECTOR_VARS = [
  'COLLECTOR_MAX_BODY_BYTES',
  'COLLECTOR_MAX_EVENTS',
  'COLLECTOR_MAX_EVENT_AGE_DAYS',
  'COLLECTOR_MAX_CLOCK_SKEW_SECONDS',
  'COLLECTOR_RETRY_AFTER_SECONDS',
] as const;

/** Embedded mode's configuration, frozen. */
export interface EmbeddedConfig {
  readonly http: { readonly host: string; readonly port: number };
  /** Absolute path of the data directory (ledger, keys, lock). */
  readonly dataDir: string;
  readonly maxDbPages: number | undefined;
  readonly logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** What the collector app is built with: its limits, with `http` and `keysFile` set for embedded mode. */
  readonly collector: CollectorConfig;
}

/**
 * Parses the environment once (PORT, HOST, PHI_AUDIT_DATA_DIR, PHI_AUDIT_MAX_DB_PAGES,
 * LOG_LEVEL and the collector's COLLECTOR_MAX_* limits); reports every problem at once.
 * Empty values count as unset. `cwd` resolves a relative data directory.
 */
export function parseEmbeddedConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): EmbeddedConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));

  let collector: CollectorConfig | undefined;
  try {
    // The collector's parser checks its limits; Kafka settings are irrelevant here and set inert.
    const limits = Object.fromEntries(COLLECTOR_VARS.map((k) => [k, cleaned[k]]));
    collector = parseCollectorConfig({ ...limits, KAFKA_BROKERS: 'embedded.invalid:9', KAFKA_CREATE_TOPIC: 'false' });
  } catch (error) {
    if (!(error instanceof CollectorConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (!parsed.success || collector === undefined || problems.length > 0) {
    throw new EmbeddedError(
      'EMBEDDED_CONFIG_INVALID',
      `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.PHI_AUDIT_DATA_DIR);
  return Object.freeze({
    http: Object.freeze({ host: e.HOST, port: e.PORT }),
    dataDir,
    maxDbPages: e.PHI_AUDIT_MAX_DB_PAGES,
    logLevel: e.LOG_LEVEL,
    collector: Object.freeze({
      ...collector,
      kafka: Object.freeze({
        brokers: Object.freeze([]),
        topic: '(embedded: no Kafka)',
        clientId: 'phi-audit-embedded',
        createTopic: false,
        partitions: 1,
        lingerMs: 0,
      }),
      http: Object.freeze({ host: e.HOST, port: e.PORT }),
      keysFile: join(dataDir, KEYS_FILE),
      logLevel: e.LOG_LEVEL,
    }),
  });
}
