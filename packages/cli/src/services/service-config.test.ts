import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderClickHouseConfig } from './clickhouse-config.js';
import { renderKafkaServerProperties } from './kafka-config.js';
import { formatEnvLines } from './service-env.js';
import { execFileSync } from 'node:child_process';

const PACKAGED = '/etc/clickhouse-server/config.xml';
const SAMPLE = `<?xml version="1.0"?>
<yandex>
    <logger><log>/var/log/clickhouse-server/clickhouse-server.log</log></logger>
    <http_port>8123</http_port>
    <tcp_port>9000</tcp_port>
    <interserver_http_port>9009</interserver_http_port>
    <listen_host>::1</listen_host>
    <listen_host>127.0.0.1</listen_host>
    <path>/var/lib/clickhouse/</path>
    <tmp_path>/var/lib/clickhouse/tmp/</tmp_path>
</yandex>`;

describe('renderClickHouseConfig', () => {
  const options = { dataDir: '/s/data', logDir: '/s/logs', httpPort: 18123, tcpPort: 19000, interserverPort: 19009 };

  it.each([
    ['a sample', SAMPLE],
    ...(existsSync(PACKAGED) ? [['the packaged config.xml', readFileSync(PACKAGED, 'utf8')]] : []),
  ])('moves %s to project-local directories, our ports and 127.0.0.1 only', (_name, template) => {
    const xml = renderClickHouseConfig({ template, ...options });
    expect(xml).not.toContain('/var/lib/clickhouse');
    expect(xml).not.toContain('/var/log/clickhouse-server');
    expect(xml).toContain('<path>/s/data/</path>');
    expect(xml).toContain('<http_port>18123</http_port>');
    expect(xml).toContain('<tcp_port>19000</tcp_port>');
    expect(xml).toContain('<interserver_http_port>19009</interserver_http_port>');
    expect(xml.match(/<listen_host>[^<]*<\/listen_host>/g)).toEqual(['<listen_host>127.0.0.1</listen_host>']);
  });

  it('refuses a template without the port elements', () => {
    expect(() => renderClickHouseConfig({ template: '<yandex></yandex>', ...options })).toThrow(/http_port/);
  });
});

describe('renderKafkaServerProperties', () => {
  it('describes a single combined KRaft node on 127.0.0.1', () => {
    const text = renderKafkaServerProperties({ brokerPort: 1, controllerPort: 2, dataDir: '/d' });
    const props = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.bootstrap.servers': '127.0.0.1:2',
      listeners: 'PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2',
      'log.dirs': '/d',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'share.coordinator.state.topic.replication.factor': '1',
      'group.initial.rebalance.delay.ms': '0',
    });
  });
});

describe('formatEnvLines', () => {
  it('prints lines a POSIX shell evaluates back to the same values', () => {
    const env = {
      KAFKA_BROKERS: '127.0.0.1:19092',
      CLICKHOUSE_URL: 'http://default:@127.0.0.1:18123',
      CLICKHOUSE_WRITER_URL: "http://w:it's $HOME `x`@h:1",
    };
    const lines = formatEnvLines(env);
    expect(lines.split('\n')[0]).toBe('KAFKA_BROKERS=127.0.0.1:19092');
    const out = execFileSync(
      'sh',
      ['-c', `${lines}\nprintf '%s\\n' "$KAFKA_BROKERS" "$CLICKHOUSE_URL" "$CLICKHOUSE_WRITER_URL"`],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toBe(`${env.KAFKA_BROKERS}\n${env.CLICKHOUSE_URL}\n${env.CLICKHOUSE_WRITER_URL}\n`);
  });
});
