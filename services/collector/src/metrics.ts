import { Counter, Histogram, Registry } from 'prom-client';

/** The collector's Prometheus metrics, on a registry of their own (one per app, no globals). */
export interface CollectorMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  eventsAccepted: Counter<'tenant'>;
  eventsRejected: Counter<'reason'>;
  produceLatency: Histogram<'outcome'>;
  requestBodyBytes: Histogram<'route'>;
}

/** Creates the metric set on a fresh Registry. */
export function createCollectorMetrics(): CollectorMetrics {
  const registry = new Registry();
  return {
    registry,
    httpRequests: new Counter({
      name: 'phi_audit_collector_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: 'phi_audit_collector_events_accepted_total',
      help: 'Events acknowledged to clients after Kafka confirmed them',
      labelNames: ['tenant'] as const,
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'phi_audit_collector_events_rejected_total',
      help: 'Events in rejected requests (all-or-nothing), by error code; body-level rejections count the request as 1',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    produceLatency: new Histogram({
      name: 'phi_audit_collector_produce_seconds',
      help: 'Time from publish() to Kafka acknowledgement (includes group-commit linger)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    requestBodyBytes: new Histogram({
      name: 'phi_audit_collector_request_body_bytes',
      help: 'Request body size as received (before decompression)',
      labelNames: ['route'] as const,
      buckets: [256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216],
      registers: [registry],
    }),
  };
}
