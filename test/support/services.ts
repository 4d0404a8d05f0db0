import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** Where the integration services came from (TESTING.md "Layers"). */
export type ServicesSource = 'env' | 'local' | 'testcontainers';

/** Connection settings the global setup hands to every test worker. */
export interface TestServices {
  readonly source: ServicesSource;
  readonly kafkaBrokers: string;
  readonly clickhouseUrl: string;
  readonly clickhouseWriterUrl: string | null;
  readonly clickhouseReaderUrl: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** null when the selected tests need no services or none could be found outside CI. */
    phiAuditServices: TestServices | null;
    /** Why services are missing (shown by the helpers below). */
    phiAuditServicesProblem: string | null;
  }
}

function services(): TestServices {
  const provided = inject('phiAuditServices');
  if (provided) return provided;
  const problem = inject('phiAuditServicesProblem');
  throw new Error(
    `integration services are not available${problem ? `: ${problem}` : ''}. ` +
      'Set KAFKA_BROKERS and CLICKHOUSE_URL, or run `phi-audit services up`, or start a Docker engine.',
  );
}

/** True when Kafka and ClickHouse are reachable (never false with CI=true: the setup fails instead). */
export function hasServices(): boolean {
  return inject('phiAuditServices') !== null;
}

/** `host:port[,host:port]` of the Kafka bootstrap brokers. */
export function kafkaBrokers(): string {
  return services().kafkaBrokers;
}

/** The bootstrap brokers as a list, as kafkajs wants them. */
export function kafkaBrokerList(): string[] {
  return kafkaBrokers().split(',');
}

/** ClickHouse HTTP URL with admin credentials (DDL allowed). */
export function clickhouseUrl(): string {
  return services().clickhouseUrl;
}

/** ClickHouse URL of the insert-only `phi_writer` account; throws when it is not provisioned. */
export function clickhouseWriterUrl(): string {
  const url = services().clickhouseWriterUrl;
  if (url === null) throw new Error('CLICKHOUSE_WRITER_URL is not available (restricted users not provisioned)');
  return url;
}

/** ClickHouse URL of the read-only `phi_reader` account; throws when it is not provisioned. */
export function clickhouseReaderUrl(): string {
  const url = services().clickhouseReaderUrl;
  if (url === null) throw new Error('CLICKHOUSE_READER_URL is not available (restricted users not provisioned)');
  return url;
}

/**
 * A name no other test run uses, valid as a Kafka topic and a ClickHouse database
 * identifier: `<prefix>_<time>_<random>` in lower case, letters, digits and `_` only.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const head = /^[a-z_]/.test(clean) ? clean : `t_${clean}`;
  return `${head}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}
