import { describe, expect, it } from 'vitest';
import { CollectorConfigError, parseCollectorConfig } from './config.js';

describe('parseCollectorConfig', () => {
  it('applies defaults and freezes the result', () => {
    const config = parseCollectorConfig({ KAFKA_BROKERS: 'a:9092, b:9093' });
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(config.kafka.topic).toBe('phi-audit.access-events');
    expect(config.limits.maxEvents).toBe(5_000);
    expect(config.keysFile).toBe('data/ingest-keys.json');
    expect(Object.isFrozen(config) && Object.isFrozen(config.limits)).toBe(true);
  });

  it('reads the optional ClickHouse settings of the reference-data store', () => {
    expect(parseCollectorConfig({ KAFKA_BROKERS: 'a:9092' }).clickhouse).toBeUndefined();
    const config = parseCollectorConfig({ KAFKA_BROKERS: 'a:9092', CLICKHOUSE_URL: 'http://w:secret@ch:8123' });
    expect(config.clickhouse).toEqual({ url: 'http://w:secret@ch:8123', database: 'phi_audit' });
    expect(() =>
      parseCollectorConfig({
        KAFKA_BROKERS: 'a:9092',
        CLICKHOUSE_URL: 'ftp://w:secret@ch',
        CLICKHOUSE_DATABASE: 'a-b',
      }),
    ).toThrow(/CLICKHOUSE_URL must be an http\(s\) URL[\s\S]*CLICKHOUSE_DATABASE must be an identifier/);
    try {
      parseCollectorConfig({ KAFKA_BROKERS: 'a:9092', CLICKHOUSE_URL: 'ftp://w:secret@ch' });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      parseCollectorConfig({ COLLECTOR_PORT: 'eighty', COLLECTOR_MAX_EVENTS: '9000', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CollectorConfigError);
    const problems = (error as CollectorConfigError).problems.join('\n');
    for (const name of ['KAFKA_BROKERS', 'COLLECTOR_PORT', 'COLLECTOR_MAX_EVENTS', 'LOG_LEVEL'])
      expect(problems).toContain(name);
  });
});
