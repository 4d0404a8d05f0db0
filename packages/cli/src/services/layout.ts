import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServicesError } from './errors.js';

/** The Kafka broker version provisioned locally. The one place this version is named. */
export const KAFKA_VERSION = '4.1.1';

/** Where every local service keeps its files, and which ports it listens on. */
export interface ServicesLayout {
  /** Repository root (holds deploy/local/kafka/pom.xml). */
  readonly repoRoot: string;
  /** State directory: configs, data, logs, pid files, generated passwords. */
  readonly stateDir: string;
  /** Kafka broker version to resolve and run. */
  readonly kafkaVersion: string;
  /** Cache of resolved Kafka jars, shared across state directories. */
  readonly kafkaLibsDir: string;
  readonly ports: {
    readonly kafkaBroker: number;
    readonly kafkaController: number;
    readonly clickhouseHttp: number;
    readonly clickhouseTcp: number;
    readonly clickhouseInterserver: number;
  };
}

/** Options of {@link resolveServicesLayout}; every field defaults from the environment. */
export interface ServicesLayoutOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly stateDir?: string;
  readonly repoRoot?: string;
}

const PORT_DEFAULTS = {
  kafkaBroker: ['PHI_AUDIT_KAFKA_PORT', 19092],
  kafkaController: ['PHI_AUDIT_KAFKA_CONTROLLER_PORT', 19093],
  clickhouseHttp: ['PHI_AUDIT_CLICKHOUSE_HTTP_PORT', 18123],
  clickhouseTcp: ['PHI_AUDIT_CLICKHOUSE_TCP_PORT', 19000],
  clickhouseInterserver: ['PHI_AUDIT_CLICKHOUSE_INTERSERVER_PORT', 19009],
} as const;

/** Walks up from this file to the directory holding the Kafka pom: the repository root. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'local', 'kafka', 'pom.xml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new ServicesError(
        'SERVICES_INVALID_CONFIG',
        'cannot find the phi-audit repository root (deploy/local/kafka/pom.xml) above the CLI',
      );
    }
    dir = parent;
  }
}

function parsePort(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    problems.push(`${name} must be a port number (1-65535), got "${raw}"`);
    return fallback;
  }
  return port;
}

/**
 * Resolves the state directory (`PHI_AUDIT_SERVICES_DIR` or `<repo>/.cache/phi-audit/services`),
 * the Kafka jar cache and the ports (overridable by `PHI_AUDIT_*_PORT`), reporting every bad
 * override at once.
 */
export function resolveServicesLayout(options: ServicesLayoutOptions = {}): ServicesLayout {
  const env = options.env ?? process.env;
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const problems: string[] = [];
  const ports = Object.fromEntries(
    Object.entries(PORT_DEFAULTS).map(([key, [name, fallback]]) => [key, parsePort(env, name, fallback, problems)]),
  ) as unknown as ServicesLayout['ports'];
  const used = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = used.get(port);
    if (other !== undefined) problems.push(`ports ${other} and ${key} are both ${port}`);
    used.set(port, key);
  }
  if (problems.length > 0) throw new ServicesError('SERVICES_INVALID_CONFIG', problems.join('; '));
  const kafkaVersion = env.PHI_AUDIT_KAFKA_VERSION || KAFKA_VERSION;
  const stateDir = resolve(
    options.stateDir ?? (env.PHI_AUDIT_SERVICES_DIR || join(repoRoot, '.cache', 'phi-audit', 'services')),
  );
  return Object.freeze({
    repoRoot,
    stateDir,
    kafkaVersion,
    kafkaLibsDir: join(repoRoot, '.cache', 'kafka', kafkaVersion, 'libs'),
    ports: Object.freeze(ports),
  });
}
