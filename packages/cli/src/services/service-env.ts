import type { ClickHouseAccounts } from './clickhouse-service.js';
import type { ServicesLayout } from './layout.js';

/** Connection settings of the local services, as environment variables. */
export interface ServicesEnv {
  readonly KAFKA_BROKERS: string;
  /** Admin account (`default`, no password; listens on 127.0.0.1 only). */
  readonly CLICKHOUSE_URL: string;
  /** Insert/select-only account, limited to the `phi_audit` database; absent until the server was started once. */
  readonly CLICKHOUSE_WRITER_URL?: string;
  /** Read-only account, limited to the `phi_audit` database; absent until the server was started once. */
  readonly CLICKHOUSE_READER_URL?: string;
}

/** Builds the connection settings from the layout and the ClickHouse accounts. */
export function buildServicesEnv(layout: ServicesLayout, accounts: ClickHouseAccounts): ServicesEnv {
  const http = `127.0.0.1:${layout.ports.clickhouseHttp}`;
  const base = { KAFKA_BROKERS: `127.0.0.1:${layout.ports.kafkaBroker}`, CLICKHOUSE_URL: `http://default:@${http}` };
  if (!accounts.restrictedUsers) return base;
  const { writerPassword, readerPassword } = accounts.credentials;
  return {
    ...base,
    CLICKHOUSE_WRITER_URL: `http://phi_writer:${encodeURIComponent(writerPassword)}@${http}`,
    CLICKHOUSE_READER_URL: `http://phi_reader:${encodeURIComponent(readerPassword)}@${http}`,
  };
}

/**
 * `NAME=value` lines a POSIX shell can `eval`. Values are single-quoted unless they only hold
 * characters that need no quoting.
 */
export function formatEnvLines(env: ServicesEnv): string {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => `${name}=${/^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`}`)
    .join('\n');
}
