import type { Command } from 'commander';
import { main } from '@phi-audit/embedded';

/**
 * `phi-audit start` (what `npm start` runs): the whole ledger in one process on SQLite, no Kafka
 * or ClickHouse; Merkle tiles, signed checkpoints and the ledger API included. Configured from the
 * environment; runs until SIGINT/SIGTERM.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'Run the embedded ledger: ingest API + tamper-evident SQLite ledger in one process ' +
        '(env: PORT=8080, HOST=127.0.0.1 (0.0.0.0 to accept events from the network), PHI_AUDIT_DATA_DIR=./data, ' +
        'PHI_AUDIT_MAX_DB_PAGES, LOG_LEVEL, COLLECTOR_MAX_BODY_BYTES, COLLECTOR_MAX_EVENTS, COLLECTOR_MAX_EVENT_AGE_DAYS, ' +
        'COLLECTOR_MAX_CLOCK_SKEW_SECONDS, COLLECTOR_RETRY_AFTER_SECONDS; signed checkpoints: ' +
        'CHECKPOINT_SIGNING_KEY_FILE (default <data dir>/checkpoint-signing.key, created on first start) or ' +
        'CHECKPOINT_SIGNING_KEY, CHECKPOINT_EVERY_RECORDS=10000, CHECKPOINT_INTERVAL_SECONDS=10, ' +
        'CHECKPOINT_EXPORT_DIR=<data dir>/checkpoints, CHECKPOINT_EXPORT_URL, CHECKPOINT_EXPORT_TOKEN). ' +
        'The ledger API (/v1/ledger: logs, checkpoints, proofs) answers auditor keys on the same port.',
    )
    .action(async () => {
      // main() keeps the process alive by listening and exits 0 on SIGINT/SIGTERM after a clean close.
      await main(process.env);
    });
}
