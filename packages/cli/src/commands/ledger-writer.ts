import type { Command } from 'commander';
import { runWithHeapLimit } from '@phi-audit/ledger-writer';

/** `phi-audit ledger-writer`: consumes the access-event topic into the ClickHouse ledger; configured from the environment. */
export function registerLedgerWriterCommand(program: Command): void {
  program
    .command('ledger-writer')
    .description(
      'Run the ledger writer (env: KAFKA_BROKERS, CLICKHOUSE_URL, CLICKHOUSE_DATABASE, KAFKA_TOPIC, KAFKA_GROUP_ID, METRICS_PORT, WRITER_MAX_HEAP_MB; ' +
        'checkpoints: CHECKPOINT_SIGNING_KEY_FILE or CHECKPOINT_SIGNING_KEY (required), CHECKPOINT_EVERY_RECORDS, CHECKPOINT_INTERVAL_SECONDS, ' +
        'CHECKPOINT_EXPORT_DIR, CHECKPOINT_EXPORT_URL, CHECKPOINT_EXPORT_TOKEN)',
    )
    .action(async () => {
      // The writer runs with a capped V8 heap (WRITER_MAX_HEAP_MB, default 192 MiB; 0 = none).
      process.exitCode = await runWithHeapLimit(process.env);
    });
}
