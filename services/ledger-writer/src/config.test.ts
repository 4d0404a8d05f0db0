import { describe, expect, it } from 'vitest';
import { parseLedgerWriterConfig } from './config.js';
import { isWriterError } from './errors.js';

const minimal = {
  KAFKA_BROKERS: '127.0.0.1:29092',
  CLICKHOUSE_URL: 'http://writer:s3cret@127.0.0.1:8123',
  CHECKPOINT_SIGNING_KEY_FILE: '/etc/phi-audit/signing.key',
};

function problemsOf(env: Record<string, string | undefined>): string {
  try {
    parseLedgerWriterConfig(env);
  } catch (e) {
    expect(isWriterError(e, 'WRITER_CONFIG_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected WRITER_CONFIG_INVALID');
}

describe('parseLedgerWriterConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = parseLedgerWriterConfig(minimal);
    expect(c).toEqual({
      brokers: ['127.0.0.1:29092'],
      topic: 'phi-audit.access-events',
      groupId: 'phi-audit-ledger-writer',
      clientId: 'phi-audit-ledger-writer',
      partitions: 6,
      concurrency: 3,
      sessionTimeoutMs: 30_000,
      dedupeWindow: 100_000,
      clickhouseUrl: 'http://writer:s3cret@127.0.0.1:8123',
      clickhouseDatabase: 'phi_audit',
      logLevel: 'info',
      migrate: false,
      signingKey: { file: '/etc/phi-audit/signing.key' },
      checkpointEveryRecords: 10_000,
      checkpointIntervalMs: 10_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.brokers)).toBe(true);
  });

  it('reads every variable', () => {
    const c = parseLedgerWriterConfig({
      ...minimal,
      KAFKA_BROKERS: 'a:1, b:2',
      KAFKA_TOPIC: 'x.events',
      KAFKA_GROUP_ID: 'g',
      KAFKA_PARTITIONS: '12',
      CLICKHOUSE_DATABASE: 'audit2',
      METRICS_PORT: '9464',
      LOG_LEVEL: 'debug',
      PHI_AUDIT_MIGRATE: 'true',
      WRITER_DEDUPE_WINDOW: '50',
      CHECKPOINT_EVERY_RECORDS: '500',
      CHECKPOINT_INTERVAL_SECONDS: '3',
      CHECKPOINT_EXPORT_DIR: '/var/lib/phi-audit/checkpoints',
      CHECKPOINT_EXPORT_URL: 'https://witness.example/checkpoints',
      CHECKPOINT_EXPORT_TOKEN: 'tok',
    });
    expect(c).toMatchObject({
      brokers: ['a:1', 'b:2'],
      topic: 'x.events',
      groupId: 'g',
      partitions: 12,
      clickhouseDatabase: 'audit2',
      metricsPort: 9464,
      logLevel: 'debug',
      migrate: true,
      dedupeWindow: 50,
      checkpointEveryRecords: 500,
      checkpointIntervalMs: 3_000,
      checkpointExportDir: '/var/lib/phi-audit/checkpoints',
      checkpointExportUrl: 'https://witness.example/checkpoints',
      checkpointExportToken: 'tok',
    });
  });

  it('takes the signing key as text instead of a file', () => {
    const { CHECKPOINT_SIGNING_KEY_FILE: _file, ...rest } = minimal;
    const c = parseLedgerWriterConfig({ ...rest, CHECKPOINT_SIGNING_KEY: 'PRIVATE+KEY+x+00000000+AQ==' });
    expect(c.signingKey).toEqual({ key: 'PRIVATE+KEY+x+00000000+AQ==' });
  });

  it('requires exactly one signing key variable, naming both and the command that creates a key', () => {
    const { CHECKPOINT_SIGNING_KEY_FILE: _file, ...none } = minimal;
    for (const env of [none, { ...minimal, CHECKPOINT_SIGNING_KEY: 'PRIVATE+KEY+secret-key-text' }]) {
      const message = problemsOf(env);
      expect(message).toContain('CHECKPOINT_SIGNING_KEY_FILE');
      expect(message).toContain('CHECKPOINT_SIGNING_KEY ');
      expect(message).toContain('phi-audit signing-key create');
      expect(message).not.toContain('secret-key-text');
    }
  });

  it('checks the checkpoint variables, without echoing the token', () => {
    const message = problemsOf({
      ...minimal,
      CHECKPOINT_EVERY_RECORDS: '0',
      CHECKPOINT_INTERVAL_SECONDS: 'soon',
      CHECKPOINT_EXPORT_URL: 'ftp://x/y',
    });
    for (const name of ['CHECKPOINT_EVERY_RECORDS', 'CHECKPOINT_INTERVAL_SECONDS', 'CHECKPOINT_EXPORT_URL'])
      expect(message).toContain(name);
    const { CHECKPOINT_SIGNING_KEY_FILE: _file, ...noKey } = minimal;
    const tokenOnly = problemsOf({ ...noKey, CHECKPOINT_EXPORT_TOKEN: 'tok-secret' });
    expect(tokenOnly).toContain('CHECKPOINT_EXPORT_TOKEN');
    // Reported together with the missing key.
    expect(tokenOnly).toContain('CHECKPOINT_SIGNING_KEY_FILE');
    expect(tokenOnly).not.toContain('tok-secret');
  });

  it('reports every problem at once and never echoes the ClickHouse URL', () => {
    let err: unknown;
    try {
      parseLedgerWriterConfig({
        CLICKHOUSE_URL: 'ftp://writer:s3cret@x',
        KAFKA_PARTITIONS: 'six',
        METRICS_PORT: '70000',
        LOG_LEVEL: 'loud',
        CLICKHOUSE_DATABASE: 'a;drop',
        WRITER_DEDUPE_WINDOW: '0',
      });
    } catch (e) {
      err = e;
    }
    expect(isWriterError(err, 'WRITER_CONFIG_INVALID')).toBe(true);
    const message = (err as Error).message;
    for (const name of [
      'KAFKA_BROKERS',
      'CLICKHOUSE_URL',
      'KAFKA_PARTITIONS',
      'METRICS_PORT',
      'LOG_LEVEL',
      'CLICKHOUSE_DATABASE',
      'WRITER_DEDUPE_WINDOW',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('s3cret');
  });
});
