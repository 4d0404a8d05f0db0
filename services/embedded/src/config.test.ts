import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEmbeddedConfig } from './config.js';

describe('parseEmbeddedConfig', () => {
  it('defaults to loopback:8080 and ./data, with the keys file in the data directory', () => {
    const c = parseEmbeddedConfig({}, '/srv/phi');
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.dataDir).toBe('/srv/phi/data');
    expect(c.collector.keysFile).toBe(join('/srv/phi/data', 'ingest-keys.json'));
    expect(c.maxDbPages).toBeUndefined();
    expect(c.collector.limits.maxEvents).toBe(5_000);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads PORT, HOST, PHI_AUDIT_DATA_DIR, PHI_AUDIT_MAX_DB_PAGES and the collector limits', () => {
    const c = parseEmbeddedConfig(
      {
        PORT: '9000',
        HOST: '0.0.0.0',
        PHI_AUDIT_DATA_DIR: '/var/lib/phi',
        PHI_AUDIT_MAX_DB_PAGES: '100',
        COLLECTOR_MAX_EVENTS: '10',
      },
      '/',
    );
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(c.collector.http).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(c.dataDir).toBe('/var/lib/phi');
    expect(c.maxDbPages).toBe(100);
    expect(c.collector.limits.maxEvents).toBe(10);
  });

  it('reports every problem at once, its own and the collector limits', () => {
    expect(() => parseEmbeddedConfig({ PORT: 'http', PHI_AUDIT_MAX_DB_PAGES: '0', COLLECTOR_MAX_EVENTS: '0' })).toThrow(
      /PORT[\s\S]*PHI_AUDIT_MAX_DB_PAGES[\s\S]*COLLECTOR_MAX_EVENTS/,
    );
  });

  it('ignores the cluster-only Kafka settings', () => {
    expect(() => parseEmbeddedConfig({ KAFKA_BROKERS: 'not a broker list' })).not.toThrow();
  });
});
