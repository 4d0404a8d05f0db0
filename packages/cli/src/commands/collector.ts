import type { Command } from 'commander';
import { main } from '@phi-audit/collector';

/** `phi-audit collector`: runs the HTTP ingest collector; configured from the environment. */
export function registerCollectorCommand(program: Command): void {
  program
    .command('collector')
    .description(
      'Run the ingest collector (env: KAFKA_BROKERS, KAFKA_TOPIC, COLLECTOR_HOST, COLLECTOR_PORT, PHI_AUDIT_KEYS_FILE, COLLECTOR_MAX_BODY_BYTES, COLLECTOR_MAX_EVENTS, COLLECTOR_MAX_EVENT_AGE_DAYS, COLLECTOR_MAX_CLOCK_SKEW_SECONDS, LOG_LEVEL)',
    )
    .action(async () => {
      // Runs until SIGINT/SIGTERM; main() closes the server and the producer on either.
      await main(process.env);
    });
}
