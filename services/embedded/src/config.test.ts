import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSigningKeyName, parseEmbeddedConfig } from './config.js';

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

  it('defaults checkpoints to a signing key and an export directory in the data directory', () => {
    const c = parseEmbeddedConfig({}, '/srv/phi');
    expect(c.checkpoints.signingKey).toMatchObject({
      kind: 'default',
      file: join('/srv/phi/data', 'checkpoint-signing.key'),
    });
    expect(c.checkpoints).toMatchObject({
      everyRecords: 10_000,
      intervalMs: 10_000,
      exportDir: join('/srv/phi/data', 'checkpoints'),
      exportUrl: undefined,
      exportToken: undefined,
    });
  });

  it('reads the CHECKPOINT_* settings; the key text and the token never appear when the config is printed', () => {
    const key = 'PRIVATE+KEY+host/phi-audit+01234567+AAAA';
    const c = parseEmbeddedConfig(
      {
        CHECKPOINT_SIGNING_KEY: key,
        CHECKPOINT_EVERY_RECORDS: '500',
        CHECKPOINT_INTERVAL_SECONDS: '2',
        CHECKPOINT_EXPORT_DIR: 'exported',
        CHECKPOINT_EXPORT_URL: 'https://witness.example/checkpoints',
        CHECKPOINT_EXPORT_TOKEN: 'sekrit-token',
      },
      '/srv/phi',
    );
    expect(c.checkpoints.signingKey.kind).toBe('env');
    if (c.checkpoints.signingKey.kind === 'env') expect(c.checkpoints.signingKey.key()).toBe(key);
    expect(c.checkpoints.everyRecords).toBe(500);
    expect(c.checkpoints.intervalMs).toBe(2_000);
    expect(c.checkpoints.exportDir).toBe('/srv/phi/exported');
    expect(c.checkpoints.exportUrl).toBe('https://witness.example/checkpoints');
    expect(c.checkpoints.exportToken?.()).toBe('sekrit-token');
    const printed = JSON.stringify(c);
    expect(printed).not.toContain('PRIVATE+KEY');
    expect(printed).not.toContain('sekrit-token');

    const fromFile = parseEmbeddedConfig({ CHECKPOINT_SIGNING_KEY_FILE: 'keys/signer.key' }, '/srv/phi');
    expect(fromFile.checkpoints.signingKey).toEqual({ kind: 'file', file: '/srv/phi/keys/signer.key' });
  });

  it('refuses both key variables at once, a bad export URL and a token without a URL, without echoing the key', () => {
    let message = '';
    try {
      parseEmbeddedConfig({
        CHECKPOINT_SIGNING_KEY: 'PRIVATE+KEY+secret-material',
        CHECKPOINT_SIGNING_KEY_FILE: '/k',
        CHECKPOINT_EVERY_RECORDS: '0',
        CHECKPOINT_EXPORT_URL: 'ftp://x.example/',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/CHECKPOINT_EVERY_RECORDS/);
    expect(message).toMatch(/CHECKPOINT_EXPORT_URL/);
    expect(message).toMatch(/set at most one/);
    expect(message).not.toContain('secret-material');
    expect(() => parseEmbeddedConfig({ CHECKPOINT_EXPORT_TOKEN: 't' })).toThrow(/CHECKPOINT_EXPORT_TOKEN/);
  });

  it('names the default signing key after the host, as a valid note key name', () => {
    expect(defaultSigningKeyName('clinic-server.local')).toBe('clinic-server.local/phi-audit');
    expect(defaultSigningKeyName('my host+1')).toBe('my-host-1/phi-audit');
    expect(defaultSigningKeyName('')).toBe('localhost/phi-audit');
    expect(defaultSigningKeyName()).not.toMatch(/[\s+]/);
  });
});
