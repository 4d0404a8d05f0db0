import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The detector's Prometheus metrics, on a registry of their own. Labels never carry PHI. */
export interface DetectorMetrics {
  registry: Registry;
  eventsProcessed: Counter;
  duplicatesSkipped: Counter;
  alertsWritten: Counter<'rule'>;
  flushes: Counter<'outcome'>;
  flushSeconds: Histogram;
  decodeFailures: Counter<'kind'>;
  referenceLoads: Counter<'outcome'>;
  /** Newest event time processed, epoch seconds. */
  lastEventTime: Gauge;
}

export interface DetectorMetricsOptions {
  /** Records or messages not yet processed, read on each scrape (Kafka lag, or ledger records behind). */
  lag?: () => Promise<{ key: string; lag: number }[]>;
  /** Process metrics (RSS, heap, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/** Creates the detector's metrics. */
export function createDetectorMetrics(options: DetectorMetricsOptions = {}): DetectorMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'phi_audit_detector_' });
  const lag = options.lag;
  if (lag !== undefined) {
    new Gauge({
      name: 'phi_audit_detector_lag',
      help: 'Events in the source not yet processed and flushed (per partition, or per ledger log)',
      labelNames: ['source'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const l of await lag()) this.set({ source: l.key }, l.lag);
        } catch {
          // Source unreachable: no series rather than a stale number; the source logs the outage.
        }
      },
    });
  }
  return {
    registry,
    eventsProcessed: new Counter({
      name: 'phi_audit_detector_events_processed_total',
      help: 'Events run through the rules',
      registers: [registry],
    }),
    duplicatesSkipped: new Counter({
      name: 'phi_audit_detector_duplicates_skipped_total',
      help: 'Events skipped because the same (tenant, source system, event id) was processed recently',
      registers: [registry],
    }),
    alertsWritten: new Counter({
      name: 'phi_audit_detector_alerts_written_total',
      help: 'Alert states upserted into the detection store, by rule',
      labelNames: ['rule'],
      registers: [registry],
    }),
    flushes: new Counter({
      name: 'phi_audit_detector_flushes_total',
      help: 'Alert flushes to the detection store, by outcome (ok, failed: retried)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'phi_audit_detector_flush_seconds',
      help: 'Latency of one alert flush',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    decodeFailures: new Counter({
      name: 'phi_audit_detector_decode_failures_total',
      help: 'Messages that are not access events, skipped (the ledger-writer sets them aside)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    referenceLoads: new Counter({
      name: 'phi_audit_detector_reference_loads_total',
      help: 'Tenant reference data loads, by outcome (ok, failed: the previous data is kept)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    lastEventTime: new Gauge({
      name: 'phi_audit_detector_last_event_time_seconds',
      help: 'Newest event time (occurredAt) processed, epoch seconds',
      registers: [registry],
    }),
  };
}
