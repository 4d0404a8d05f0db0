import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runningPid, startDetached, stopDetached, type DetachedProcessSpec } from './detached-process.js';
import { ServicesError } from './errors.js';
import { findExecutable } from './executables.js';
import { ensureKafkaJars } from './kafka-jars.js';
import { renderKafkaLog4j2Properties, renderKafkaServerProperties } from './kafka-config.js';
import { probeKafka } from './kafka-probe.js';
import type { ServicesLayout } from './layout.js';
import { waitForPortFree } from './port-check.js';
import type { ServiceStatus } from './service-status.js';
import { waitUntilReady } from './wait-until-ready.js';

/** Files of the local broker inside the state directory. */
export function kafkaFiles(layout: ServicesLayout) {
  const dir = join(layout.stateDir, 'kafka');
  return {
    dir,
    dataDir: join(dir, 'data'),
    serverProperties: join(dir, 'server.properties'),
    log4j2Properties: join(dir, 'log4j2.properties'),
    clusterIdFile: join(dir, 'cluster-id'),
    pidFile: join(dir, 'kafka.pid'),
    /** JVM stdout/stderr (start-up failures land here). */
    outFile: join(dir, 'kafka.out'),
    /** The broker's own log (log4j2). */
    logFile: join(dir, 'server.log'),
  };
}

function processSpec(layout: ServicesLayout, java: string): DetachedProcessSpec {
  const files = kafkaFiles(layout);
  return {
    name: 'Kafka',
    command: java,
    args: [
      '-Xmx512m',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${files.log4j2Properties}`,
      `-Dkafka.logs.dir=${files.dir}`,
      '-cp',
      join(layout.kafkaLibsDir, '*'),
      'kafka.Kafka',
      files.serverProperties,
    ],
    cwd: files.dir,
    pidFile: files.pidFile,
    logFile: files.outFile,
    marker: files.serverProperties,
  };
}

function requireJava(): string {
  const java = findExecutable('java');
  if (!java) {
    throw new ServicesError(
      'SERVICES_MISSING_DEPENDENCY',
      'Java 17+ is needed to run the local Kafka broker (apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS, or use `docker compose up`',
    );
  }
  return java;
}

function formatStorage(java: string, layout: ServicesLayout): Promise<void> {
  const files = kafkaFiles(layout);
  if (!existsSync(files.clusterIdFile)) {
    // A cluster id is a base64url-encoded 16-byte UUID (22 characters).
    writeFileSync(files.clusterIdFile, `${randomBytes(16).toString('base64url')}\n`);
  }
  const clusterId = readFileSync(files.clusterIdFile, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const child = spawn(
      java,
      [
        `-Dlog4j2.configurationFile=${files.log4j2Properties}`,
        '-cp',
        join(layout.kafkaLibsDir, '*'),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        files.serverProperties,
        '--standalone',
      ],
      { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (error) =>
      reject(new ServicesError('SERVICES_KAFKA_FORMAT_FAILED', 'cannot run the Kafka storage tool', { cause: error })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new ServicesError(
            'SERVICES_KAFKA_FORMAT_FAILED',
            `Kafka storage format failed (exit ${code}):\n${output.trim()}`,
          ),
        );
    });
  });
}

/** Current state of the local broker. */
export async function kafkaStatus(layout: ServicesLayout): Promise<ServiceStatus> {
  const files = kafkaFiles(layout);
  const pid = runningPid({ pidFile: files.pidFile, marker: files.serverProperties });
  let answering = false;
  if (pid !== undefined) {
    answering = await probeKafka({ host: '127.0.0.1', port: layout.ports.kafkaBroker, timeoutMs: 2_000 }).then(
      () => true,
      () => false,
    );
  }
  return {
    service: 'kafka',
    state: pid === undefined ? 'stopped' : answering ? 'running' : 'starting',
    ...(pid === undefined ? {} : { pid }),
    version: layout.kafkaVersion,
    ports: { broker: layout.ports.kafkaBroker, controller: layout.ports.kafkaController },
    logFile: files.logFile,
    dataDir: files.dataDir,
  };
}

/**
 * Starts the local KRaft broker unless it already runs: resolves the jars (once), writes its
 * configuration, formats its storage (once), starts it detached and waits until it answers.
 */
export async function startKafka(options: {
  layout: ServicesLayout;
  log: (line: string) => void;
  timeoutMs?: number;
}): Promise<ServiceStatus & { started: boolean }> {
  const { layout, log } = options;
  const files = kafkaFiles(layout);
  const existing = runningPid({ pidFile: files.pidFile, marker: files.serverProperties });
  if (existing === undefined) {
    const java = requireJava();
    for (const port of [layout.ports.kafkaBroker, layout.ports.kafkaController]) {
      if (!(await waitForPortFree(port))) {
        throw new ServicesError(
          'SERVICES_PORT_IN_USE',
          `port ${port} is taken by another process; stop it or choose other ports (PHI_AUDIT_KAFKA_PORT, PHI_AUDIT_KAFKA_CONTROLLER_PORT)`,
        );
      }
    }
    await ensureKafkaJars({ layout, log });
    mkdirSync(files.dataDir, { recursive: true });
    writeFileSync(
      files.serverProperties,
      renderKafkaServerProperties({
        brokerPort: layout.ports.kafkaBroker,
        controllerPort: layout.ports.kafkaController,
        dataDir: files.dataDir,
      }),
    );
    writeFileSync(files.log4j2Properties, renderKafkaLog4j2Properties({ logFile: files.logFile }));
    if (!existsSync(join(files.dataDir, 'meta.properties'))) {
      log('formatting Kafka storage (first start)');
      await formatStorage(java, layout);
    }
    log(`starting Kafka ${layout.kafkaVersion} on 127.0.0.1:${layout.ports.kafkaBroker}`);
    const pid = startDetached(processSpec(layout, java));
    try {
      await waitUntilReady({
        name: 'Kafka',
        pid,
        probe: () => probeKafka({ host: '127.0.0.1', port: layout.ports.kafkaBroker, timeoutMs: 2_000 }),
        timeoutMs: options.timeoutMs ?? 120_000,
        logFile: `${files.logFile} and ${files.outFile}`,
      });
    } catch (error) {
      await stopDetached({ name: 'Kafka', pidFile: files.pidFile, marker: files.serverProperties }, { graceMs: 5_000 });
      throw error;
    }
    return { ...(await kafkaStatus(layout)), started: true };
  }
  const status = await kafkaStatus(layout);
  if (status.state === 'starting') {
    await waitUntilReady({
      name: 'Kafka',
      pid: existing,
      probe: () => probeKafka({ host: '127.0.0.1', port: layout.ports.kafkaBroker, timeoutMs: 2_000 }),
      timeoutMs: options.timeoutMs ?? 120_000,
      logFile: files.logFile,
    });
    return { ...(await kafkaStatus(layout)), started: false };
  }
  return { ...status, started: false };
}

/** Stops the local broker (SIGTERM, then SIGKILL after the grace period); `signal: 'SIGKILL'` simulates a crash. */
export async function stopKafka(options: {
  layout: ServicesLayout;
  graceMs?: number;
  signal?: NodeJS.Signals;
}): Promise<boolean> {
  const files = kafkaFiles(options.layout);
  return stopDetached(
    { name: 'Kafka', pidFile: files.pidFile, marker: files.serverProperties },
    {
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
}

/** Deletes the broker's data, configuration and logs (it must be stopped). */
export function purgeKafka(layout: ServicesLayout): void {
  rmSync(kafkaFiles(layout).dir, { recursive: true, force: true });
}
