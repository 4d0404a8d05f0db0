import type { Command } from 'commander';
import { main } from '@phi-audit/console';

/**
 * `phi-audit console`: runs the cluster-mode console (accounts in SQLite, alerts in ClickHouse, its
 * audit events through Kafka); configured from the environment.
 */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description(
      'Run the console API and its OpenAPI docs at /docs (env: CONSOLE_DATA_DIR, CONSOLE_HOST, CONSOLE_PORT (8090), ' +
        'CONSOLE_TRUST_PROXY, CLICKHOUSE_URL (writer account: decisions are stored), CLICKHOUSE_DATABASE, ' +
        'KAFKA_BROKERS and KAFKA_TOPIC (the console audits itself through the ledger), LOG_LEVEL); ' +
        'create accounts with `phi-audit users create --data $CONSOLE_DATA_DIR`',
    )
    .action(async () => {
      // Runs until SIGINT/SIGTERM.
      await main(process.env);
    });
}
