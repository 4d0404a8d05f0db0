import type { FastifyInstance } from 'fastify';
import type { EventPublisher } from '@phi-audit/bus-kafka';
import type { CollectorMetrics } from './metrics.js';

/** `/healthz` (process up), `/readyz` (Kafka reachable), `/metrics` (Prometheus text). */
export function registerHealthRoutes(
  app: FastifyInstance,
  options: { publisher: Pick<EventPublisher, 'isReady'>; metrics: CollectorMetrics },
): void {
  app.get('/healthz', () => Promise.resolve({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = await options.publisher.isReady();
    return reply.code(ready ? 200 : 503).send(
      ready
        ? { status: 'ready' }
        : {
            status: 'unavailable',
            message: 'the durable event store (Kafka, or the SQLite ledger in embedded mode) cannot accept events',
          },
    );
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(text);
  });
}
