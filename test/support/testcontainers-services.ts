import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { KAFKA_VERSION } from '../../packages/cli/src/services/layout.js';
import { probeKafka } from '../../packages/cli/src/services/kafka-probe.js';
import type { TestServices } from './services.js';

/** Image of the current ClickHouse, the same one docker-compose.yml runs. */
export const CLICKHOUSE_IMAGE = 'clickhouse/clickhouse-server:25.8';

/** True when a Docker (or Podman) engine answers. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

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

/** Started containers and what tests need to reach them. */
export interface ContainerServices {
  readonly services: TestServices;
  readonly stop: () => Promise<void>;
}

/**
 * Starts apache/kafka (KRaft, one node) and clickhouse/clickhouse-server with testcontainers,
 * for machines with a Docker engine but no local provisioning. `usersXml` renders the users.d
 * file that declares the restricted accounts.
 */
export async function startContainerServices(options: {
  usersXml: (passwords: { writerPassword: string; readerPassword: string }) => string;
}): Promise<ContainerServices> {
  const runtime = await getContainerRuntimeClient();
  const host = runtime.info.containerRuntime.host;
  // Kafka advertises the address clients must use, so the host port is fixed up front and the
  // container listens on the same number.
  const port = await freePort();
  const started: StartedTestContainer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((c) => c.stop()));
  };
  try {
    const kafka = await new GenericContainer(`apache/kafka:${KAFKA_VERSION}`)
      .withEnvironment({
        CLUSTER_ID: randomBytes(16).toString('base64url'),
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withExposedPorts({ container: port, host: port })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(120_000)
      .start();
    started.push(kafka);
    await probeKafka({ host, port, timeoutMs: 10_000 });

    const writerPassword = randomBytes(24).toString('hex');
    const readerPassword = randomBytes(24).toString('hex');
    const users = options.usersXml({ writerPassword, readerPassword });
    const clickhouse = await new GenericContainer(CLICKHOUSE_IMAGE)
      // Keep the passwordless `default` admin reachable from the host; tests run DDL with it.
      .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
      .withCopyContentToContainer([{ content: users, target: '/etc/clickhouse-server/users.d/phi-audit.xml' }])
      .withExposedPorts(8123)
      .withWaitStrategy(Wait.forHttp('/ping', 8123))
      .withStartupTimeout(120_000)
      .start();
    started.push(clickhouse);
    const http = `${clickhouse.getHost()}:${clickhouse.getMappedPort(8123)}`;
    return {
      services: {
        source: 'testcontainers',
        kafkaBrokers: `${host}:${port}`,
        clickhouseUrl: `http://default:@${http}`,
        clickhouseWriterUrl: `http://phi_writer:${writerPassword}@${http}`,
        clickhouseReaderUrl: `http://phi_reader:${readerPassword}@${http}`,
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
