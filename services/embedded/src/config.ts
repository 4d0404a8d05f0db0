import { hostname } from 'node:os';
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
  /** A file holding the checkpoint signer key (mode 0600). */
  CHECKPOINT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** The checkpoint signer key text itself. Never echoed in messages. */
  CHECKPOINT_SIGNING_KEY: z.string().min(1).optional(),
  CHECKPOINT_EVERY_RECORDS: int(1, 1_000_000_000).default(10_000),
  CHECKPOINT_INTERVAL_SECONDS: int(1, 86_400).default(10),
  CHECKPOINT_EXPORT_DIR: z.string().min(1).optional(),
  CHECKPOINT_EXPORT_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  CHECKPOINT_EXPORT_TOKEN: z.string().min(1).optional(),
  /** `off` runs no detector (benchmarks of ingest alone). */
  PHI_AUDIT_DETECTION: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('on'),
});

/** The signing key's file name inside the data directory when no key is configured. */
export const DEFAULT_SIGNING_KEY_FILE = 'checkpoint-signing.key';
/** The export directory's name inside the data directory when CHECKPOINT_EXPORT_DIR is not set. */
export const DEFAULT_CHECKPOINT_EXPORT_DIR = 'checkpoints';

/**
 * Where the checkpoint signer key comes from. The key text of `env` is behind a function so
 * that logging or serialising the config never prints it.
 */
export type SigningKeySource =
  /** CHECKPOINT_SIGNING_KEY_FILE: must exist. */
  | { readonly kind: 'file'; readonly file: string }
  /** Neither variable set: `<data dir>/checkpoint-signing.key`, created on first start under `name`. */
  | { readonly kind: 'default'; readonly file: string; readonly name: string }
  /** CHECKPOINT_SIGNING_KEY. */
  | { readonly kind: 'env'; readonly key: () => string };

/** Checkpoint signing and export settings. */
export interface CheckpointSettings {
  readonly signingKey: SigningKeySource;
  readonly everyRecords: number;
  readonly intervalMs: number;
  /** Absolute directory receiving the latest checkpoint of each log. */
  readonly exportDir: string;
  readonly exportUrl: string | undefined;
  /** Bearer token for exportUrl; behind a function for the same reason as the key. */
  readonly exportToken: (() => string) | undefined;
}

/**
 * The signing key name embedded mode creates: `<hostname>/phi-audit`, with every character a
 * note key name cannot hold (whitespace, '+', controls…) replaced by '-'.
 */
export function defaultSigningKeyName(host: string = hostname()): string {
  const cleaned = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^-+|-+$/g, '');
  return `${cleaned === '' ? 'localhost' : cleaned}/phi-audit`;
}

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
  readonly checkpoints: CheckpointSettings;
  /** Run the detector over the ledger (PHI_AUDIT_DETECTION, default on); policies in `<data dir>/policies/`. */
  readonly detection: boolean;
}

/**
 * Parses the environment once (PORT, HOST, PHI_AUDIT_DATA_DIR, PHI_AUDIT_MAX_DB_PAGES,
 * LOG_LEVEL, PHI_AUDIT_DETECTION, the collector's COLLECTOR_MAX_* limits and the CHECKPOINT_* settings); reports
 * every problem at once. Empty values count as unset. `cwd` resolves relative paths.
 */
export function parseEmbeddedConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): EmbeddedConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(cleaned);
  // Issue messages only, never the input: CHECKPOINT_SIGNING_KEY and the token are secrets.
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  if (cleaned.CHECKPOINT_SIGNING_KEY !== undefined && cleaned.CHECKPOINT_SIGNING_KEY_FILE !== undefined) {
    problems.push('CHECKPOINT_SIGNING_KEY and CHECKPOINT_SIGNING_KEY_FILE: set at most one of them');
  }
  if (cleaned.CHECKPOINT_EXPORT_TOKEN !== undefined && cleaned.CHECKPOINT_EXPORT_URL === undefined) {
    problems.push('CHECKPOINT_EXPORT_TOKEN: only used with CHECKPOINT_EXPORT_URL, which is not set');
  }

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
  const keyText = e.CHECKPOINT_SIGNING_KEY;
  const token = e.CHECKPOINT_EXPORT_TOKEN;
  const signingKey: SigningKeySource =
    keyText !== undefined
      ? Object.freeze({ kind: 'env', key: () => keyText })
      : e.CHECKPOINT_SIGNING_KEY_FILE !== undefined
        ? Object.freeze({ kind: 'file', file: resolve(cwd, e.CHECKPOINT_SIGNING_KEY_FILE) })
        : Object.freeze({
            kind: 'default',
            file: join(dataDir, DEFAULT_SIGNING_KEY_FILE),
            name: defaultSigningKeyName(),
          });
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
    checkpoints: Object.freeze({
      signingKey,
      everyRecords: e.CHECKPOINT_EVERY_RECORDS,
      intervalMs: e.CHECKPOINT_INTERVAL_SECONDS * 1000,
      exportDir:
        e.CHECKPOINT_EXPORT_DIR !== undefined
          ? resolve(cwd, e.CHECKPOINT_EXPORT_DIR)
          : join(dataDir, DEFAULT_CHECKPOINT_EXPORT_DIR),
      exportUrl: e.CHECKPOINT_EXPORT_URL,
      exportToken: token !== undefined ? () => token : undefined,
    }),
    detection: e.PHI_AUDIT_DETECTION === 'on',
  });
}
