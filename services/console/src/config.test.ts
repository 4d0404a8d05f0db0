import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC } from '@phi-audit/bus-kafka';
import { DEFAULT_CONSOLE_PORT, parseConsoleConfig } from './config.js';

const SECRET_URL = 'http://phi_writer:s3cret-pw@clickhouse:8123';
const BASE = { CONSOLE_DATA_DIR: 'data', CLICKHOUSE_URL: SECRET_URL, KAFKA_BROKERS: 'k1:9092, k2:9092' };

describe('parseConsoleConfig', () => {
  it('reads ClickHouse and Kafka settings, with the collector topic by default', () => {
    const config = parseConsoleConfig(BASE, '/srv');
    expect(config).toMatchObject({
      http: { host: '127.0.0.1', port: DEFAULT_CONSOLE_PORT },
      dataDir: '/srv/data',
      clickhouseUrl: SECRET_URL,
      clickhouseDatabase: 'phi_audit',
      kafka: { brokers: ['k1:9092', 'k2:9092'], topic: DEFAULT_TOPIC },
    });
    expect(Object.isFrozen(config.kafka)).toBe(true);
    expect(parseConsoleConfig({ ...BASE, KAFKA_TOPIC: 'audit.events' }).kafka.topic).toBe('audit.events');
  });

  it('reads the verifier keys (commas or newlines) and the collector key file', () => {
    const none = parseConsoleConfig(BASE, '/srv');
    expect(none.verifierKeyEntries).toEqual([]);
    expect(none.keysFile).toBe('/srv/data/ingest-keys.json');
    const config = parseConsoleConfig(
      { ...BASE, PHI_AUDIT_VERIFIER_KEYS: 'k1.pub, k2.pub\nk3.pub', PHI_AUDIT_KEYS_FILE: '/etc/keys.json' },
      '/srv',
    );
    expect(config.verifierKeyEntries).toEqual(['k1.pub', 'k2.pub', 'k3.pub']);
    expect(config.keysFile).toBe('/etc/keys.json');
  });

  it('reports every missing variable at once', () => {
    const error = (() => {
      try {
        parseConsoleConfig({});
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('expected a configuration error');
    })();
    expect(error.code).toBe('CONSOLE_CONFIG_INVALID');
    expect(error.message).toContain('CONSOLE_DATA_DIR');
    expect(error.message).toContain('CLICKHOUSE_URL is required');
    expect(error.message).toContain('KAFKA_BROKERS is required');
  });

  it('never echoes the ClickHouse URL in its messages', () => {
    const bad = { ...BASE, CLICKHOUSE_URL: 'ftp://phi_writer:s3cret-pw@clickhouse', KAFKA_TOPIC: 'bad topic' };
    expect(() => parseConsoleConfig(bad)).toThrow(/CLICKHOUSE_URL must be an http\(s\) URL[\s\S]*KAFKA_TOPIC/);
    expect(() => parseConsoleConfig(bad)).not.toThrow(/s3cret-pw/);
  });
});
