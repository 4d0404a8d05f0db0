import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { clickhouseUrl, kafkaBrokers } from '../../../../test/support/services.js';
import {
  restartService,
  servicesDown,
  servicesEnv,
  servicesStatus,
  servicesUp,
  type ServicesLayoutOptions,
} from './index.js';
import { probeKafka } from './kafka-probe.js';

const provided = inject('phiAuditServices');
const local = provided?.source === 'local';
const quiet = { log: (): void => undefined };

async function query(url: string, sql: string): Promise<string> {
  const { username, password, host } = new URL(url);
  const response = await fetch(`http://${host}/`, {
    method: 'POST',
    body: sql,
    headers: { 'X-ClickHouse-User': decodeURIComponent(username), 'X-ClickHouse-Key': decodeURIComponent(password) },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(text);
  return text.trim();
}

describe.skipIf(!local)('phi-audit services against the services the test run uses', () => {
  it('reports both services running, with versions', async () => {
    const statuses = await servicesStatus(quiet);
    expect(statuses.map((s) => [s.service, s.state])).toEqual([
      ['kafka', 'running'],
      ['clickhouse', 'running'],
    ]);
    const clickhouse = statuses.find((s) => s.service === 'clickhouse');
    expect(clickhouse?.version).toBe(await query(clickhouseUrl(), 'SELECT version()'));
  });

  it('is idempotent: up again starts nothing and hands out the same settings', async () => {
    const before = await servicesStatus(quiet);
    const result = await servicesUp(quiet);
    expect(result.kafka.started).toBe(false);
    expect(result.clickhouse.started).toBe(false);
    expect([result.kafka.pid, result.clickhouse.pid]).toEqual(before.map((s) => s.pid));
    expect(result.env.KAFKA_BROKERS).toBe(kafkaBrokers());
    expect(result.env.CLICKHOUSE_URL).toBe(clickhouseUrl());
    expect(result.env).toEqual(servicesEnv());
  });

  it('the broker answers on the advertised address', async () => {
    const [host = '', port = ''] = kafkaBrokers().split(':');
    const answer = await probeKafka({ host, port: Number(port) });
    expect(answer.brokers).toContain(kafkaBrokers());
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

// A second, private pair of services (own state directory and ports) so stopping and killing
// them cannot disturb the tests running in parallel.
describe.skipIf(!local)('phi-audit services lifecycle in a private state directory', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'phi-audit-services-'));
  let options: ServicesLayoutOptions & typeof quiet;

  afterAll(async () => {
    if (options) await servicesDown({ ...options, purge: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('up, kill -9 and restart, down, up with data kept, down --purge', { timeout: 240_000 }, async () => {
    const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const env = {
      ...process.env,
      PHI_AUDIT_KAFKA_PORT: String(ports[0]),
      PHI_AUDIT_KAFKA_CONTROLLER_PORT: String(ports[1]),
      PHI_AUDIT_CLICKHOUSE_HTTP_PORT: String(ports[2]),
      PHI_AUDIT_CLICKHOUSE_TCP_PORT: String(ports[3]),
      PHI_AUDIT_CLICKHOUSE_INTERSERVER_PORT: String(ports[4]),
    };
    options = { env, stateDir, ...quiet };

    const first = await servicesUp(options);
    expect([first.kafka.started, first.clickhouse.started]).toEqual([true, true]);
    expect(first.env.KAFKA_BROKERS).toBe(`127.0.0.1:${ports[0]}`);
    await query(first.env.CLICKHOUSE_URL, 'CREATE TABLE default.kept (x UInt32) ENGINE = MergeTree ORDER BY x');
    await query(first.env.CLICKHOUSE_URL, 'INSERT INTO default.kept VALUES (42)');

    const again = await servicesUp(options);
    expect([again.kafka.started, again.clickhouse.started]).toEqual([false, false]);
    expect(again.env).toEqual(first.env);

    const restarted = await restartService('kafka', { ...options, signal: 'SIGKILL' });
    expect(restarted.state).toBe('running');
    expect(restarted.pid).not.toBe(first.kafka.pid);

    expect(await servicesDown(options)).toEqual({ kafka: true, clickhouse: true });
    expect((await servicesStatus(options)).map((s) => s.state)).toEqual(['stopped', 'stopped']);
    expect(await servicesDown(options)).toEqual({ kafka: false, clickhouse: false });

    const second = await servicesUp(options);
    expect(second.env).toEqual(first.env);
    expect(await query(second.env.CLICKHOUSE_URL, 'SELECT x FROM default.kept')).toBe('42');

    await servicesDown({ ...options, purge: true });
    expect(existsSync(join(stateDir, 'kafka'))).toBe(false);
    expect(existsSync(join(stateDir, 'clickhouse'))).toBe(false);
  });
});
