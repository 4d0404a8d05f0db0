import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { EventPublisher } from '@phi-audit/bus-kafka';
import type { CollectorConfig } from './config.js';
import { CollectorError, type CollectorErrorCode } from './errors.js';
import { registerHealthRoutes } from './health-routes.js';
import type { IngestKeyStore } from './ingest-keys.js';
import { registerIngestRoute } from './ingest-route.js';
import { createCollectorMetrics, type CollectorMetrics } from './metrics.js';

export interface BuildCollectorAppOptions {
  config: CollectorConfig;
  /** A pino logger with the collector's redaction (see createCollectorLogger). */
  logger: FastifyBaseLogger;
  publisher: Pick<EventPublisher, 'publish' | 'isReady'>;
  keys: Pick<IngestKeyStore, 'authenticate'>;
  /** Defaults to a fresh metric set on its own registry. */
  metrics?: CollectorMetrics;
}

/** fastify's own client errors, mapped into the catalogue. */
const FASTIFY_CODES: Record<string, CollectorErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'INGEST_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
};

/** Accept a caller's request id only when it is short and plain, so it is safe to log. */
function requestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(header) ? header : randomUUID();
}

function toCollectorError(error: FastifyError | CollectorError | Error, maxBodyBytes: number): CollectorError {
  if (error instanceof CollectorError) return error;
  const code = (error as FastifyError).code;
  const mapped = code === undefined ? undefined : FASTIFY_CODES[code];
  if (mapped === 'INGEST_BODY_TOO_LARGE') {
    return new CollectorError(mapped, `the body is larger than ${maxBodyBytes} bytes, the limit; split the batch`, {
      cause: error,
    });
  }
  if (mapped !== undefined) return new CollectorError(mapped, error.message, { cause: error });
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return new CollectorError('BAD_REQUEST', error.message, { cause: error });
  return new CollectorError('INTERNAL', 'internal error; the request was not processed', { cause: error });
}

/**
 * Builds the collector's HTTP app (not listening). Every dependency comes in through
 * `options`; main.ts wires the real ones.
 */
export function buildCollectorApp(options: BuildCollectorAppOptions): FastifyInstance {
  const { config, publisher, keys } = options;
  const metrics = options.metrics ?? createCollectorMetrics();
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: config.limits.maxBodyBytes,
    return503OnClosing: true,
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  app.setErrorHandler((error: FastifyError | CollectorError, request, reply) => {
    const e = toCollectorError(error, config.limits.maxBodyBytes);
    // Only code, status and counts are logged: messages and details can quote client input.
    if (e.statusCode >= 500) {
      request.log.error(
        {
          code: e.code,
          err:
            e.cause instanceof Error
              ? { type: e.cause.name, message: e.cause.message, stack: e.cause.stack }
              : undefined,
        },
        'request failed',
      );
    } else {
      request.log.info({ code: e.code, status: e.statusCode, problems: e.details.length }, 'request rejected');
    }
    void reply.code(e.statusCode).headers(e.headers).send(e.toBody(request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new CollectorError(
      'NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 100) ?? ''}`,
    );
    void reply.code(e.statusCode).send(e.toBody(request.id));
  });

  registerHealthRoutes(app, { publisher, metrics });
  registerIngestRoute(app, { config, publisher, keys, metrics });
  return app;
}
