import { describe, expect, it } from 'vitest';
import { parseDetectorConfig } from './config.js';

const base = { KAFKA_BROKERS: 'k1:9092, k2:9092', CLICKHOUSE_URL: 'http://writer:s3cret@ch:8123' };

describe('parseDetectorConfig', () => {
  it('fills the defaults, ignores the ledger-writer group variable and resolves the policy directory', () => {
    const c = parseDetectorConfig(
      { ...base, KAFKA_GROUP_ID: 'phi-audit-ledger-writer', DETECTOR_POLICY_DIR: 'pol' },
      '/srv',
    );
    expect(c).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      topic: 'phi-audit.access-events',
      groupId: 'phi-audit-detector',
      clickhouseDatabase: 'phi_audit',
      policyDir: '/srv/pol',
      replayMs: 26 * 3_600_000,
      flushIntervalMs: 5_000,
      referencePollMs: 10_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(parseDetectorConfig(base).policyDir).toBeUndefined();
  });

  it('reports every problem at once, never echoing the ClickHouse password', () => {
    let message = '';
    try {
      parseDetectorConfig({
        KAFKA_BROKERS: 'nope',
        CLICKHOUSE_URL: 'ftp://writer:s3cret@ch',
        DETECTOR_REPLAY_HOURS: '-1',
        DETECTOR_FLUSH_INTERVAL_MS: '5',
      });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const name of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'DETECTOR_REPLAY_HOURS', 'DETECTOR_FLUSH_INTERVAL_MS']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('s3cret');
  });
});
