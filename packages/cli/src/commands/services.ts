import { InvalidArgumentError, type Command } from 'commander';
import {
  checkpointKeyStatus,
  formatEnvLines,
  servicesDown,
  servicesStatus,
  servicesUp,
  type ServiceStatus,
} from '../services/index.js';

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return seconds;
}

function describe(status: ServiceStatus): string {
  const ports = Object.entries(status.ports)
    .map(([name, port]) => `${name} ${port}`)
    .join(', ');
  const pid = status.pid === undefined ? '' : ` pid ${status.pid}`;
  const version = status.version === undefined ? '' : ` ${status.version}`;
  return `${status.service.padEnd(10)} ${status.state.padEnd(8)}${version} (${ports})${pid}  log: ${status.logFile}`;
}

/**
 * `phi-audit services up|down|status`: the local Kafka broker and ClickHouse server used for
 * development and tests. `up` prints shell-evaluable connection settings on stdout (everything
 * else goes to stderr), so `eval "$(phi-audit services up)"` works.
 */
export function registerServicesCommand(program: Command): void {
  const services = program
    .command('services')
    .description(
      'Run a local Kafka broker and ClickHouse server (state in $PHI_AUDIT_SERVICES_DIR or .cache/phi-audit/services)',
    );

  services
    .command('up')
    .description(
      'Start Kafka and ClickHouse if they are not running; print KAFKA_BROKERS=…, CLICKHOUSE_*_URL=… and CHECKPOINT_*=… / PHI_AUDIT_VERIFIER_KEYS=… lines',
    )
    .option('--timeout <seconds>', 'how long to wait for each service to answer', parseSeconds)
    .action(async (options: { timeout?: number }) => {
      const started = Date.now();
      const result = await servicesUp(options.timeout === undefined ? {} : { timeoutMs: options.timeout * 1000 });
      for (const status of [result.kafka, result.clickhouse]) {
        process.stderr.write(`${status.started ? 'started' : 'already running'}: ${describe(status)}\n`);
      }
      process.stderr.write(
        `ready in ${((Date.now() - started) / 1000).toFixed(1)} s; stop with: phi-audit services down\n`,
      );
      process.stdout.write(`${formatEnvLines(result.env)}\n`);
    });

  services
    .command('down')
    .description('Stop Kafka and ClickHouse (data is kept unless --purge)')
    .option('--purge', 'also delete their data, configuration, passwords and logs')
    .action(async (options: { purge?: boolean }) => {
      const stopped = await servicesDown({ purge: options.purge === true });
      for (const [name, wasRunning] of Object.entries(stopped)) {
        process.stderr.write(`${name}: ${wasRunning ? 'stopped' : 'was not running'}\n`);
      }
      if (options.purge) process.stderr.write('data deleted\n');
    });

  services
    .command('status')
    .description('Show whether each service runs, with ports, version and log file')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }) => {
      const statuses = await servicesStatus();
      const key = checkpointKeyStatus();
      // The JSON form stays the array of services scripts already read.
      process.stdout.write(
        options.json
          ? `${JSON.stringify(statuses, null, 2)}\n`
          : `${[
              ...statuses.map(describe),
              key.created
                ? `checkpoints CHECKPOINT_SIGNING_KEY_FILE=${key.signingKeyFile} PHI_AUDIT_VERIFIER_KEYS=${key.verifierKeyFile} CHECKPOINT_EXPORT_DIR=${key.exportDir}`
                : `checkpoints no signing key yet (phi-audit services up creates ${key.signingKeyFile})`,
            ].join('\n')}\n`,
      );
      // Exit status tells scripts whether everything runs, like `systemctl is-active`.
      if (statuses.some((s) => s.state !== 'running')) process.exitCode = 3;
    });
}
