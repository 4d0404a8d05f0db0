/**
 * vitest globalSetup: finds Kafka and ClickHouse for integration tests in TESTING.md's order
 *   1. KAFKA_BROKERS / CLICKHOUSE_URL from the environment (per service);
 *   2. the project's own provisioning (`phi-audit services up`: local Kafka jars + Debian ClickHouse);
 *   3. testcontainers, when a Docker engine answers.
 * With CI=true a missing service fails the run; elsewhere tests see `hasServices() === false`.
 * Services are looked for only when a selected test file is `*.int.test.ts` or lives under test/.
 * Locally provisioned services are left running for the next run (`phi-audit services down`).
 */
import { relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { renderRestrictedUsers } from '../../packages/cli/src/services/clickhouse-users.js';
import { isServicesError, servicesEnv, startService } from '../../packages/cli/src/services/index.js';
import type { TestServices } from './services.js';

const log = (line: string): void => {
  process.stderr.write(`[global-setup] ${line}\n`);
};

async function selectedTestFiles(project: TestProject): Promise<string[]> {
  // The CLI's file filters (`vitest run foo`) are not part of the public globalSetup API;
  // without them every file the config includes counts, which only errs towards starting services.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles;
}

function needsServices(root: string, files: string[]): boolean {
  return files.some((file) => file.endsWith('.int.test.ts') || relative(root, file).startsWith('test/'));
}

/** Ensures the services the environment does not name, with the project's provisioning. */
async function fromEnvAndLocal(env: NodeJS.ProcessEnv): Promise<TestServices> {
  const kafkaFromEnv = env.KAFKA_BROKERS;
  const clickhouseFromEnv = env.CLICKHOUSE_URL;
  if (!kafkaFromEnv) await startService('kafka', { log });
  if (!clickhouseFromEnv) await startService('clickhouse', { log });
  const local = servicesEnv();
  const source = kafkaFromEnv && clickhouseFromEnv ? 'env' : 'local';
  return {
    source,
    kafkaBrokers: kafkaFromEnv || local.KAFKA_BROKERS,
    clickhouseUrl: clickhouseFromEnv || local.CLICKHOUSE_URL,
    clickhouseWriterUrl: clickhouseFromEnv
      ? (env.CLICKHOUSE_WRITER_URL ?? null)
      : (local.CLICKHOUSE_WRITER_URL ?? null),
    clickhouseReaderUrl: clickhouseFromEnv
      ? (env.CLICKHOUSE_READER_URL ?? null)
      : (local.CLICKHOUSE_READER_URL ?? null),
  };
}

function exportToWorkers(project: TestProject, services: TestServices | null, problem: string | null): void {
  project.provide('phiAuditServices', services);
  project.provide('phiAuditServicesProblem', problem);
  if (!services) return;
  // Workers are forked after this runs and inherit process.env; spawned CLIs and services too.
  process.env.KAFKA_BROKERS = services.kafkaBrokers;
  process.env.CLICKHOUSE_URL = services.clickhouseUrl;
  if (services.clickhouseWriterUrl) process.env.CLICKHOUSE_WRITER_URL = services.clickhouseWriterUrl;
  if (services.clickhouseReaderUrl) process.env.CLICKHOUSE_READER_URL = services.clickhouseReaderUrl;
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (!needsServices(project.config.root, await selectedTestFiles(project))) {
    exportToWorkers(project, null, 'no integration test selected');
    return undefined;
  }
  const started = Date.now();
  try {
    const services = await fromEnvAndLocal(process.env);
    exportToWorkers(project, services, null);
    log(`services (${services.source}) ready in ${Date.now() - started} ms: Kafka ${services.kafkaBrokers}`);
    return undefined;
  } catch (error) {
    // Only a missing program falls through to containers; a provisioning that breaks is a failure.
    if (!isServicesError(error, 'SERVICES_MISSING_DEPENDENCY')) throw error;
    // Loaded only here: testcontainers is heavy and most machines never need it.
    const { dockerAvailable, startContainerServices } = await import('./testcontainers-services.js');
    if (await dockerAvailable()) {
      log(`${error.message}; using testcontainers`);
      const containers = await startContainerServices({ usersXml: renderRestrictedUsers });
      exportToWorkers(project, containers.services, null);
      return containers.stop;
    }
    if (ci)
      throw new Error(`CI=true and no integration services: ${error.message}; no Docker engine either`, {
        cause: error,
      });
    log(`integration tests will fail or skip: ${error.message}`);
    exportToWorkers(project, null, error.message);
    return undefined;
  }
}
