import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ServicesError } from './errors.js';
import type { ServicesLayout } from './layout.js';

/** True when the jar cache holds a complete resolution (the broker jar of this version). */
export function kafkaJarsPresent(layout: ServicesLayout): boolean {
  return (
    existsSync(layout.kafkaLibsDir) &&
    readdirSync(layout.kafkaLibsDir).includes(`kafka_2.13-${layout.kafkaVersion}.jar`)
  );
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * Resolves `org.apache.kafka:kafka_2.13` and its runtime dependencies from Maven Central into the
 * jar cache, once. Jars land in a temporary directory first and are renamed into place, so an
 * interrupted download never looks complete.
 */
export async function ensureKafkaJars(options: { layout: ServicesLayout; log: (line: string) => void }): Promise<void> {
  const { layout } = options;
  if (kafkaJarsPresent(layout)) return;
  const pom = join(layout.repoRoot, 'deploy', 'local', 'kafka', 'pom.xml');
  const staging = `${layout.kafkaLibsDir}.partial-${process.pid}`;
  mkdirSync(dirname(layout.kafkaLibsDir), { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  options.log(`resolving Kafka ${layout.kafkaVersion} jars from Maven Central into ${layout.kafkaLibsDir} (once)`);
  let result: { code: number | null; output: string };
  try {
    result = await run('mvn', [
      '-q',
      '-B',
      '-f',
      pom,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${staging}`,
      `-Dkafka.version=${layout.kafkaVersion}`,
    ]);
  } catch (error) {
    throw new ServicesError(
      'SERVICES_MISSING_DEPENDENCY',
      'Maven (mvn) is needed once to download the Kafka jars; install it (apt-get install maven) or set KAFKA_BROKERS',
      { cause: error },
    );
  }
  if (result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new ServicesError(
      'SERVICES_KAFKA_JARS_FAILED',
      `mvn could not resolve kafka_2.13 ${layout.kafkaVersion} (exit ${result.code}):\n${result.output.trim().split('\n').slice(-10).join('\n')}`,
    );
  }
  rmSync(layout.kafkaLibsDir, { recursive: true, force: true });
  renameSync(staging, layout.kafkaLibsDir);
}
