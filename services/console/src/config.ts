import { resolve } from 'node:path';
import { DEFAULT_TOPIC } from '@phi-audit/bus-kafka';
import { DEFAULT_KEYS_FILE } from '@phi-audit/collector';
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
import { ConsoleApiError } from './errors.js';

/** The console's port in cluster mode unless CONSOLE_PORT says otherwise. */
export const DEFAULT_CONSOLE_PORT = 8090;

// Messages never echo values: CLICKHOUSE_URL carries a password.
const EnvSchema = z.object({
  CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  CONSOLE_PORT: int('CONSOLE_PORT', 0, 65_535).default(DEFAULT_CONSOLE_PORT),
  CONSOLE_DATA_DIR: z.string({ error: 'CONSOLE_DATA_DIR is required: the directory of console.sqlite' }).min(1),
  CONSOLE_TRUST_PROXY: z
    .enum(['true', 'false'], { error: 'CONSOLE_TRUST_PROXY must be true or false' })
    .default('false'),
  // The writer account: the alert routes read alerts and the ledger, and store decisions.
  CLICKHOUSE_URL: clickhouseUrlEnv,
  CLICKHOUSE_DATABASE: clickhouseDatabaseEnv,
  // Every PHI view and decision is published to the ingest topic as the console's own access events.
  KAFKA_BROKERS: kafkaBrokersEnv,
  KAFKA_TOPIC: kafkaTopicEnv(DEFAULT_TOPIC),
  LOG_LEVEL: logLevelEnv,
  // The checkpoint signer's published verifier key(s), as `phi-audit verify` and `evidence` take
  // them: key texts or key files, separated by commas or newlines. Evidence export needs one.
  PHI_AUDIT_VERIFIER_KEYS: z.string().optional(),
  // The collector's key file: its auditor keys authenticate the ledger API (/v1/ledger) here too.
  PHI_AUDIT_KEYS_FILE: z.string().min(1).default(DEFAULT_KEYS_FILE),
});

/** The cluster-mode console's configuration, parsed once from the environment. */
export interface ConsoleConfig {
  readonly http: { readonly host: string; readonly port: number };
  /** Absolute directory of console.sqlite (the accounts). */
  readonly dataDir: string;
  /** Trust X-Forwarded-* from a TLS-terminating proxy (Secure cookie, client address). */
  readonly trustProxy: boolean;
  /** The writer account (alert decisions are inserted). Never log it: it carries credentials. */
  readonly clickhouseUrl: string;
  readonly clickhouseDatabase: string;
  /** Where the console's audit events go: the collector's topic, so the ledger-writer stores them. */
  readonly kafka: { readonly brokers: readonly string[]; readonly topic: string };
  readonly logLevel: LogLevel;
  /** Verifier key entries (key texts or files; loaded by main): empty when none is configured. */
  readonly verifierKeyEntries: readonly string[];
  /** Absolute path of the collector's key file (auditor keys for /v1/ledger). */
  readonly keysFile: string;
}

/** Splits PHI_AUDIT_VERIFIER_KEYS as the CLI does: commas or newlines. */
function verifierKeyEntries(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Parses the console's environment. Throws CONSOLE_CONFIG_INVALID listing every problem at
 * once; returns a frozen object. Empty variables count as unset.
 */
export function parseConsoleConfig(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): ConsoleConfig {
  const parsed = EnvSchema.safeParse(presentEnv(env));
  if (!parsed.success) {
    throw new ConsoleApiError(
      'CONSOLE_CONFIG_INVALID',
      `invalid console configuration:\n  - ${envProblems(parsed.error).join('\n  - ')}`,
    );
  }
  const e = parsed.data;
  return Object.freeze({
    http: Object.freeze({ host: e.CONSOLE_HOST, port: e.CONSOLE_PORT }),
    dataDir: resolve(cwd, e.CONSOLE_DATA_DIR),
    trustProxy: e.CONSOLE_TRUST_PROXY === 'true',
    clickhouseUrl: e.CLICKHOUSE_URL,
    clickhouseDatabase: e.CLICKHOUSE_DATABASE,
    kafka: Object.freeze({ brokers: Object.freeze(e.KAFKA_BROKERS), topic: e.KAFKA_TOPIC }),
    logLevel: e.LOG_LEVEL,
    verifierKeyEntries: Object.freeze(verifierKeyEntries(e.PHI_AUDIT_VERIFIER_KEYS)),
    keysFile: resolve(cwd, e.PHI_AUDIT_KEYS_FILE),
  });
}
