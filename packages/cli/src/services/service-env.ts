import type { CheckpointKeyFiles } from './checkpoint-key.js';
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
  /** The local checkpoint signing key, for ledger writers. */
  readonly CHECKPOINT_SIGNING_KEY_FILE?: string;
  /** Its verifier key file, for `phi-audit verify`. */
  readonly PHI_AUDIT_VERIFIER_KEYS?: string;
  /** Where writers export each log's latest checkpoint. */
  readonly CHECKPOINT_EXPORT_DIR?: string;
}

/** Builds the connection settings from the layout, the ClickHouse accounts and the checkpoint key files. */
export function buildServicesEnv(
  layout: ServicesLayout,
  accounts: ClickHouseAccounts,
  checkpointKey?: CheckpointKeyFiles,
): ServicesEnv {
  const http = `127.0.0.1:${layout.ports.clickhouseHttp}`;
  const base = { KAFKA_BROKERS: `127.0.0.1:${layout.ports.kafkaBroker}`, CLICKHOUSE_URL: `http://default:@${http}` };
  const checkpoints =
    checkpointKey === undefined
      ? {}
      : {
          CHECKPOINT_SIGNING_KEY_FILE: checkpointKey.signingKeyFile,
          PHI_AUDIT_VERIFIER_KEYS: checkpointKey.verifierKeyFile,
          CHECKPOINT_EXPORT_DIR: checkpointKey.exportDir,
        };
  if (!accounts.restrictedUsers) return { ...base, ...checkpoints };
  const { writerPassword, readerPassword } = accounts.credentials;
  return {
    ...base,
    CLICKHOUSE_WRITER_URL: `http://phi_writer:${encodeURIComponent(writerPassword)}@${http}`,
    CLICKHOUSE_READER_URL: `http://phi_reader:${encodeURIComponent(readerPassword)}@${http}`,
    ...checkpoints,
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
