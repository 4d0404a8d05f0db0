import { Counter, Histogram, type Registry } from 'prom-client';

/** Metrics of the embedded ledger's group commit; group commit shows as transactions ≪ requests. */
export interface EmbeddedMetrics {
  transactions: Counter<'outcome'>;
  eventsCommitted: Counter;
  duplicatesSkipped: Counter;
  groupEvents: Histogram;
  commitSeconds: Histogram<'outcome'>;
}

/** Registers the embedded ledger's metrics on `registry` (the collector app's, so /metrics shows both). */
export function createEmbeddedMetrics(registry: Registry): EmbeddedMetrics {
  return {
    transactions: new Counter({
      name: 'phi_audit_embedded_transactions_total',
      help: 'SQLite ledger transactions (one per commit group), by outcome (committed, storage_full, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    eventsCommitted: new Counter({
      name: 'phi_audit_embedded_events_committed_total',
      help: 'Ledger records written by committed transactions',
      registers: [registry],
    }),
    duplicatesSkipped: new Counter({
      name: 'phi_audit_embedded_duplicates_skipped_total',
      help: 'Events acknowledged without a new record because their idempotency key was already stored',
      registers: [registry],
    }),
    groupEvents: new Histogram({
      name: 'phi_audit_embedded_group_events',
      help: 'Events per commit group',
      buckets: [1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 20_000],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'phi_audit_embedded_commit_seconds',
      help: 'Time to build the chain and commit one group (fsync included)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
