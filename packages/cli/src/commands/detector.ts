import type { Command } from 'commander';
import { main } from '@phi-audit/detector';

/** `phi-audit detector`: runs the cluster-mode detector (Kafka → rules → ClickHouse alerts); configured from the environment. */
export function registerDetectorCommand(program: Command): void {
  program
    .command('detector')
    .description(
      'Run the detector (env: KAFKA_BROKERS, KAFKA_TOPIC, DETECTOR_GROUP_ID, CLICKHOUSE_URL, CLICKHOUSE_DATABASE, ' +
        'DETECTOR_POLICY_DIR, DETECTOR_REPLAY_HOURS, DETECTOR_FLUSH_INTERVAL_MS, DETECTOR_REFERENCE_POLL_MS, ' +
        'DETECTOR_DEDUPE_WINDOW, KAFKA_PARTITIONS, KAFKA_SESSION_TIMEOUT_MS, METRICS_PORT, LOG_LEVEL)',
    )
    .action(async () => {
      // Runs until SIGINT/SIGTERM; main() writes the final flush and commits before it resolves.
      await main(process.env);
    });
}
