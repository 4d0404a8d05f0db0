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
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', kafka: ready ? 'reachable' : 'unreachable' });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(text);
  });
}
