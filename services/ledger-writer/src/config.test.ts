import { describe, expect, it } from 'vitest';
import { parseLedgerWriterConfig } from './config.js';
import { isWriterError } from './errors.js';

const minimal = { KAFKA_BROKERS: '127.0.0.1:29092', CLICKHOUSE_URL: 'http://writer:s3cret@127.0.0.1:8123' };

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
    });
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
