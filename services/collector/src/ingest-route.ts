import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isBusError, type EventPublisher } from '@phi-audit/bus-kafka';
import type { CollectorConfig } from './config.js';
import { decodeBody, isSupportedEncoding } from './decode-body.js';
import { CollectorError } from './errors.js';
import type { IngestKeyStore, IngestPrincipal } from './ingest-keys.js';
import type { CollectorMetrics } from './metrics.js';
import { parseEvents, type BodyFormat } from './parse-events.js';
import { validateEvents } from './validate-events.js';

export interface IngestRouteOptions {
  config: CollectorConfig;
  publisher: Pick<EventPublisher, 'publish'>;
  keys: Pick<IngestKeyStore, 'authenticate'>;
  metrics: CollectorMetrics;
}

const MEDIA_TYPES: Record<string, BodyFormat> = { 'application/json': 'json', 'application/x-ndjson': 'ndjson' };
const EXPECTED_TYPES =
  'Content-Type must be application/json (an array of events) or application/x-ndjson (one event per line)';

/** Reads `type/subtype` and rejects a charset other than UTF-8; undefined when unsupported. */
function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  if (contentType === undefined) return undefined;
  const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  const format = MEDIA_TYPES[mediaType];
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return undefined;
  return format;
}

/** Extracts the bearer token; undefined when the header is missing or not `Bearer <token>`. */
function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** A store-backed publisher (embedded mode) reports a full disk as code STORE_FULL, itself or in its causes. */
function isStorageFull(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if ((e as { code?: unknown }).code === 'STORE_FULL') return true;
  }
  return false;
}

/**
 * `POST /v1/events`. Order of checks: key (401), encoding and media type (415) before the body
 * is read; then size (413), decoding, JSON, events (400/403/413); then publish (503 or 202).
 */
export function registerIngestRoute(
  app: FastifyInstance,
  { config, publisher, keys, metrics }: IngestRouteOptions,
): void {
  const principals = new WeakMap<FastifyRequest, IngestPrincipal>();

  // The route reads raw bytes; decoding and parsing happen in the handler, after auth.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.limits.maxBodyBytes }, (_req, body, done) => {
    done(null, body);
  });

  app.post(
    '/v1/events',
    {
      bodyLimit: config.limits.maxBodyBytes,
      onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
        const token = bearerToken(request.headers.authorization);
        if (token === undefined) {
          throw new CollectorError(
            'INGEST_UNAUTHORIZED',
            'missing ingest key: send "Authorization: Bearer <ingest key>"',
            {
              headers: { 'www-authenticate': 'Bearer' },
            },
          );
        }
        const principal = keys.authenticate(token);
        if (!principal) {
          throw new CollectorError('INGEST_UNAUTHORIZED', 'unknown or revoked ingest key', {
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          });
        }
        principals.set(request, principal);
        request.log = request.log.child({ tenant: principal.tenant, keyId: principal.keyId });
        reply.log = request.log;

        const encoding = request.headers['content-encoding'];
        if (!isSupportedEncoding(encoding)) {
          throw new CollectorError(
            'INGEST_UNSUPPORTED_ENCODING',
            `Content-Encoding "${String(encoding).slice(0, 40)}" is not supported; send gzip or no encoding`,
          );
        }
        const contentType = request.headers['content-type'];
        if (bodyFormat(contentType) === undefined) {
          const got = contentType === undefined ? 'none was sent' : `got "${contentType.slice(0, 80)}"`;
          throw new CollectorError('INGEST_UNSUPPORTED_MEDIA_TYPE', `${EXPECTED_TYPES} (UTF-8); ${got}`);
        }
      },
    },
    async (request, reply) => {
      const principal = principals.get(request);
      const format = bodyFormat(request.headers['content-type']);
      if (!principal || !format)
        throw new CollectorError('INTERNAL', 'request reached the handler without passing its checks');
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      metrics.requestBodyBytes.observe({ route: '/v1/events' }, raw.length);
      if (raw.length === 0) {
        metrics.eventsRejected.inc({ reason: 'INGEST_INVALID_BODY' }, 1);
        throw new CollectorError(
          'INGEST_INVALID_BODY',
          format === 'json'
            ? 'the request body is empty; send a JSON array of 1 or more events'
            : 'the request body is empty; send one JSON event per line',
        );
      }

      let counted = 1;
      let events;
      try {
        const text = await decodeBody({
          raw,
          contentEncoding: request.headers['content-encoding'],
          maxBytes: config.limits.maxBodyBytes,
        });
        const parsed = parseEvents(text, format, config.limits.maxEvents);
        counted = parsed.values.length;
        events = validateEvents({
          values: parsed.values,
          parseIssues: parsed.issues,
          // Frozen: parseIngestEvent checks a frozen context once, not once per event.
          ctx: Object.freeze({
            tenant: principal.tenant,
            sourceSystem: principal.source,
            receivedAt: Date.now(),
            maxPastMs: config.limits.maxPastMs,
            maxFutureMs: config.limits.maxFutureMs,
          }),
        });
      } catch (error) {
        // All-or-nothing: every event of a rejected request counts as rejected (1 when unparsable).
        if (error instanceof CollectorError) metrics.eventsRejected.inc({ reason: error.code }, counted);
        throw error;
      }

      const started = process.hrtime.bigint();
      try {
        await publisher.publish(events);
      } catch (error) {
        metrics.produceLatency.observe({ outcome: 'failure' }, Number(process.hrtime.bigint() - started) / 1e9);
        if (isStorageFull(error)) {
          throw new CollectorError(
            'INGEST_STORAGE_FULL',
            'the ledger disk is full; nothing from this request was stored. Free disk space, then retry',
            { cause: error, headers: { 'retry-after': String(config.retryAfterSeconds) } },
          );
        }
        const reason = isBusError(error) ? error.code : 'unknown';
        request.log.error(
          { err: { code: reason, message: (error as Error).message }, count: events.length },
          'the event store did not confirm a publish; answering 503',
        );
        throw new CollectorError(
          'INGEST_UNAVAILABLE',
          'the durable event store did not confirm the events; nothing was acknowledged, retry later',
          {
            cause: error,
            headers: { 'retry-after': String(config.retryAfterSeconds) },
          },
        );
      }
      metrics.produceLatency.observe({ outcome: 'success' }, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.eventsAccepted.inc({ tenant: principal.tenant }, events.length);
      request.log.info({ accepted: events.length }, 'events accepted');
      return reply.code(202).send({ accepted: events.length, eventIds: events.map((e) => e.eventId) });
    },
  );
}
