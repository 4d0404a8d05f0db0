import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createSigningKeyFile } from '@phi-audit/checkpoints';
import { createIngestKey } from '@phi-audit/collector';
import { freePort, runCli, startCli, waitFor, type CliProcess } from './processes.js';

/**
 * One isolated cluster-mode stack for a test: its own Kafka topic, ClickHouse database and
 * keys file, with `phi-audit collector` and `phi-audit ledger-writer` run as real processes.
 * Writers sign checkpoints with a signing key of the stack's own and export them to `exportDir`;
 * `env` carries PHI_AUDIT_VERIFIER_KEYS for `phi-audit verify`.
 */
export interface ClusterStack {
  readonly collectorUrl: string;
  readonly database: string;
  readonly topic: string;
  readonly clickhouseUrl: string;
  readonly keys: Map<string, string>;
  readonly env: Record<string, string>;
  /** The writers' checkpoint signing key (mode 0600; CHECKPOINT_SIGNING_KEY_FILE). */
  readonly signingKeyFile: string;
  /** Its verifier key (PHI_AUDIT_VERIFIER_KEYS in `env`). */
  readonly verifierKeyFile: string;
  /** Where the writers export each log's latest checkpoint (CHECKPOINT_EXPORT_DIR). */
  readonly exportDir: string;
  collector: CliProcess;
  writer: CliProcess;
  startWriter(): Promise<CliProcess>;
  /** `phi-audit detector` (group `detector-<suffix>`), when started with `detector: true`. */
  detector: CliProcess | undefined;
  /** Starts (another) `phi-audit detector`, with `extraEnv` on top of the stack's environment. */
  startDetector(extraEnv?: Record<string, string>): Promise<CliProcess>;
  close(): Promise<void>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: the test global setup provides it (services from env or phi-audit services up)`,
    );
  return value;
}

export async function startClusterStack(options: {
  name: string;
  tenants: readonly string[];
  partitions?: number;
  /** Also run `phi-audit detector` (alerts into the stack's ClickHouse database). */
  detector?: boolean;
}): Promise<ClusterStack> {
  const suffix = `${options.name}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  const database = `e2e_${suffix}`.replace(/[^a-zA-Z0-9_]/g, '_');
  const topic = `e2e.${suffix}`;
  const dir = await mkdtemp(join(tmpdir(), 'phi-audit-e2e-'));
  const keysFile = join(dir, 'keys.json');
  const signingKeyFile = join(dir, 'checkpoint-signing.key');
  const { publicFile: verifierKeyFile } = createSigningKeyFile({ name: `e2e-${suffix}`, file: signingKeyFile });
  const exportDir = join(dir, 'checkpoints');
  const clickhouseUrl = required('CLICKHOUSE_URL');
  const port = await freePort();
  const env: Record<string, string> = {
    KAFKA_BROKERS: required('KAFKA_BROKERS'),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: String(options.partitions ?? 6),
    KAFKA_GROUP_ID: `writer-${suffix}`,
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    PHI_AUDIT_KEYS_FILE: keysFile,
    COLLECTOR_PORT: String(port),
    COLLECTOR_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // A killed writer's partitions move to its replacement after this long (broker minimum 6 s).
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    CHECKPOINT_SIGNING_KEY_FILE: signingKeyFile,
    // Empty = unset: a key in the test's own environment must not make two key sources.
    CHECKPOINT_SIGNING_KEY: '',
    CHECKPOINT_EXPORT_DIR: exportDir,
    CHECKPOINT_INTERVAL_SECONDS: '2',
    PHI_AUDIT_VERIFIER_KEYS: verifierKeyFile,
    DETECTOR_GROUP_ID: `detector-${suffix}`,
    DETECTOR_FLUSH_INTERVAL_MS: '500',
    DETECTOR_REFERENCE_POLL_MS: '500',
  };

  const admin = createClient({ url: clickhouseUrl });
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await admin.close();
  const migrated = await runCli(['migrate', '--clickhouse', clickhouseUrl, '--database', database], env);
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.output}`);

  const keys = new Map<string, string>();
  for (const tenant of options.tenants) {
    const { key } = await createIngestKey({ file: keysFile, tenant, source: 'ehr-test' });
    keys.set(tenant, key);
  }

  const collectorUrl = `http://127.0.0.1:${port}`;
  const collector = startCli(['collector'], env);
  await waitFor(
    `collector on ${collectorUrl}\n${collector.output()}`,
    async () => (await fetch(`${collectorUrl}/readyz`)).ok,
    60_000,
  );

  const stack: ClusterStack = {
    collectorUrl,
    database,
    topic,
    clickhouseUrl,
    keys,
    env,
    signingKeyFile,
    verifierKeyFile,
    exportDir,
    collector,
    writer: startCli(['ledger-writer'], env),
    async startWriter() {
      stack.writer = startCli(['ledger-writer'], env);
      return stack.writer;
    },
    detector: options.detector === true ? startCli(['detector'], env) : undefined,
    async startDetector(extraEnv = {}) {
      stack.detector = startCli(['detector'], { ...env, ...extraEnv });
      return stack.detector;
    },
    async close() {
      // Bounded: a service stuck in shutdown is reported and killed instead of hanging the suite.
      const running = [stack.collector, stack.writer, ...(stack.detector ? [stack.detector] : [])];
      await Promise.all(running.map((p) => p.stopWithin(30_000)));
      const client = createClient({ url: clickhouseUrl });
      await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await client.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
