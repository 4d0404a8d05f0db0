import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Counts the ingest requests an app is processing, for the ledger's group commit. */
export interface IngestRequestCounter {
  /** Ingest requests received and not yet answered (or aborted). */
  count(): number;
  /** Adds the counting hooks to `app` (before it is ready). */
  attach(app: FastifyInstance): void;
}

/** Creates the counter; `POST /v1/events` requests count from arrival until answered or aborted. */
export function countIngestRequests(): IngestRequestCounter {
  let inFlight = 0;
  const counted = new WeakSet<FastifyRequest>();
  const finish = (request: FastifyRequest): void => {
    if (counted.delete(request)) inFlight -= 1;
  };
  return {
    count: () => inFlight,
    attach(app) {
      app.addHook('onRequest', (request, _reply, done) => {
        if (request.method === 'POST' && request.routeOptions.url === '/v1/events') {
          counted.add(request);
          inFlight += 1;
        }
        done();
      });
      app.addHook('onResponse', (request, _reply, done) => {
        finish(request);
        done();
      });
      app.addHook('onRequestAbort', (request, done) => {
        finish(request);
        done();
      });
    },
  };
}
