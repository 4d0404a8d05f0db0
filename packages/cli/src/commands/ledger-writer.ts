import type { Command } from 'commander';
import { main } from '@phi-audit/ledger-writer';

/** `phi-audit ledger-writer`: consumes the access-event topic into the ClickHouse ledger; configured from the environment. */
export function registerLedgerWriterCommand(program: Command): void {
  program
    .command('ledger-writer')
    .description(
      'Run the ledger writer (env: KAFKA_BROKERS, CLICKHOUSE_URL, CLICKHOUSE_DATABASE, KAFKA_TOPIC, KAFKA_GROUP_ID, METRICS_PORT)',
    )
    .action(async () => {
      await main(process.env);
    });
}
