import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PartitionLag } from '@phi-audit/bus-kafka';

/** The writer's Prometheus metrics, on a registry of their own. */
export interface WriterMetrics {
  registry: Registry;
  recordsWritten: Counter<'partition'>;
  batches: Counter<'outcome'>;
  appendSeconds: Histogram;
  rejected: Counter<'partition' | 'kind'>;
  replaySkipped: Counter<'partition'>;
  duplicatesSkipped: Counter<'partition'>;
  checkpointsSigned: Counter<'partition'>;
  checkpointExportFailures: Counter<'partition' | 'target'>;
  lastCheckpointSize: Gauge<'partition'>;
}

export interface WriterMetricsOptions {
  /** Reads the group's lag when /metrics is scraped. */
  lag: () => Promise<PartitionLag[]>;
  /** Process metrics (RSS, heap, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/** Creates the writer's metrics; the lag gauge is read from Kafka on each scrape. */
export function createWriterMetrics(options: WriterMetricsOptions): WriterMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'phi_audit_writer_' });
  new Gauge({
    name: 'phi_audit_writer_consumer_lag',
    help: 'Messages in the partition not yet committed by the ledger-writer group',
    labelNames: ['partition'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const l of await options.lag()) this.set({ partition: String(l.partition) }, l.lag);
      } catch {
        // Kafka unreachable: report no lag series rather than a stale number; the writer logs the outage.
      }
    },
  });
  return {
    registry,
    recordsWritten: new Counter({
      name: 'phi_audit_writer_records_written_total',
      help: 'Ledger records the store confirmed',
      labelNames: ['partition'],
      registers: [registry],
    }),
    batches: new Counter({
      name: 'phi_audit_writer_batches_total',
      help: 'Batches handled, by outcome (ok, failed: retried)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    appendSeconds: new Histogram({
      name: 'phi_audit_writer_append_seconds',
      help: 'Latency of one store append (one per batch)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'phi_audit_writer_rejected_total',
      help: 'Poison messages set aside on the rejected topic',
      labelNames: ['partition', 'kind'],
      registers: [registry],
    }),
    replaySkipped: new Counter({
      name: 'phi_audit_writer_replay_skipped_total',
      help: 'Redelivered messages skipped because the log already holds their offset',
      labelNames: ['partition'],
      registers: [registry],
    }),
    duplicatesSkipped: new Counter({
      name: 'phi_audit_writer_duplicates_skipped_total',
      help: 'Events skipped because a record with the same (tenant, source system, event id) is among the previous WRITER_DEDUPE_WINDOW records of the log',
      labelNames: ['partition'],
      registers: [registry],
    }),
    checkpointsSigned: new Counter({
      name: 'phi_audit_writer_checkpoints_signed_total',
      help: 'Checkpoints signed and stored',
      labelNames: ['partition'],
      registers: [registry],
    }),
    checkpointExportFailures: new Counter({
      name: 'phi_audit_writer_checkpoint_export_failures_total',
      help: 'Checkpoint exports that failed (retried with the next checkpoint), by target (dir, url)',
      labelNames: ['partition', 'target'],
      registers: [registry],
    }),
    lastCheckpointSize: new Gauge({
      name: 'phi_audit_writer_last_checkpoint_size',
      help: 'Size of the latest checkpoint this writer signed for the partition log',
      labelNames: ['partition'],
      registers: [registry],
    }),
  };
}
