import { describe, expect, it } from 'vitest';
import { isServicesError } from './errors.js';
import { KAFKA_VERSION, resolveServicesLayout } from './layout.js';

describe('resolveServicesLayout', () => {
  it('uses the official local ports and the repository cache by default', () => {
    const layout = resolveServicesLayout({ env: {}, repoRoot: '/repo' });
    expect(layout.ports).toEqual({
      kafkaBroker: 19092,
      kafkaController: 19093,
      clickhouseHttp: 18123,
      clickhouseTcp: 19000,
      clickhouseInterserver: 19009,
    });
    expect(layout.stateDir).toBe('/repo/.cache/phi-audit/services');
    expect(layout.kafkaLibsDir).toBe(`/repo/.cache/kafka/${KAFKA_VERSION}/libs`);
  });

  it('takes the state directory and ports from the environment', () => {
    const layout = resolveServicesLayout({
      env: { PHI_AUDIT_SERVICES_DIR: '/tmp/x', PHI_AUDIT_KAFKA_PORT: '29999', PHI_AUDIT_CLICKHOUSE_HTTP_PORT: '28888' },
      repoRoot: '/repo',
    });
    expect(layout.stateDir).toBe('/tmp/x');
    expect(layout.ports.kafkaBroker).toBe(29999);
    expect(layout.ports.clickhouseHttp).toBe(28888);
  });

  it('reports every bad override at once', () => {
    let caught: unknown;
    try {
      resolveServicesLayout({
        env: {
          PHI_AUDIT_KAFKA_PORT: 'abc',
          PHI_AUDIT_CLICKHOUSE_TCP_PORT: '70000',
          PHI_AUDIT_CLICKHOUSE_HTTP_PORT: '19093',
        },
        repoRoot: '/repo',
      });
    } catch (error) {
      caught = error;
    }
    expect(isServicesError(caught, 'SERVICES_INVALID_CONFIG')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('PHI_AUDIT_KAFKA_PORT');
    expect(message).toContain('PHI_AUDIT_CLICKHOUSE_TCP_PORT');
    expect(message).toMatch(/kafkaController and clickhouseHttp are both 19093/);
  });

  it('finds the repository root from its own location', () => {
    const layout = resolveServicesLayout({ env: {} });
    expect(layout.stateDir.startsWith(layout.repoRoot)).toBe(true);
  });
});
