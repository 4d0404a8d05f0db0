/**
 * The reference-data API, a fastify plugin mounted beside ingest (embedded mode on SQLite,
 * cluster mode's collector on ClickHouse): load patients, workforce or treatment relationships
 * as a new version of the tenant's reference data, and list the loads. Authenticated with the
 * same ingest keys as POST /v1/events; the tenant and source come from the key, never the body.
 */
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REFERENCE_KINDS, type DetectionStore, type ReferenceKind, type ReferenceLoad } from '@phi-audit/rules';
import { ReferenceApiError, type ReferenceApiErrorCode } from './errors.js';
import { recordsOfBody, validateReferenceRecords } from './validate-records.js';

/** What the routes need from a detection store. */
export type ReferenceStore = Pick<DetectionStore, 'putReference' | 'referenceLoads' | 'referenceVersions'>;

/** The caller an ingest key stands for. */
export interface ReferencePrincipal {
  keyId: string;
  tenant: string;
  source: string;
}

export interface ReferenceRoutesOptions {
  /** Undefined when the deployment has no detection store: every route answers 503. */
  store: ReferenceStore | undefined;
  /**
   * The ingest key's principal, or undefined for a malformed, unknown, revoked or auditor key
   * (→ 401). Constant-time in the secret (the collector's IngestKeyStore.authenticate).
   */
  authenticate(bearer: string): ReferencePrincipal | undefined;
  /** Logs go here when given; otherwise to the request's logger. Never records, only counts. */
  logger?: FastifyBaseLogger;
  /** Shown in the 503 when `store` is undefined: how to configure one. */
  notConfiguredHint?: string;
}

/** Body limit of the reference routes: 100,000 records with addresses fit. */
export const REFERENCE_BODY_LIMIT = 64 * 1024 * 1024;

/** fastify's client errors, mapped into the catalogue. */
const FASTIFY_CODES: Record<string, ReferenceApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REFERENCE_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REFERENCE_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_TYPE: 'REFERENCE_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REFERENCE_INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REFERENCE_INVALID_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REFERENCE_BAD_REQUEST',
};

/** Messages for fastify's errors, by fastify code: its own messages are not written for our clients. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: `the body is larger than ${REFERENCE_BODY_LIMIT} bytes, the limit; split the file`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Content-Type must be application/json',
  FST_ERR_CTP_EMPTY_TYPE: 'Content-Type must be application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty; send {"records": [ ... ]}',
  // secure-json-parse refuses these keys rather than let them reach an object's prototype.
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON, or has a "__proto__" or "constructor" key',
};

function toReferenceError(error: FastifyError | Error): ReferenceApiError {
  if (error instanceof ReferenceApiError) return error;
  const code = (error as FastifyError).code;
  const mapped = code === undefined ? undefined : FASTIFY_CODES[code];
  if (mapped !== undefined) {
    return new ReferenceApiError(mapped, FASTIFY_MESSAGES[code ?? ''] ?? 'malformed request', { cause: error });
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ReferenceApiError('REFERENCE_BAD_REQUEST', 'malformed request', { cause: error });
  }
  return new ReferenceApiError('REFERENCE_STORE_UNAVAILABLE', 'the reference data store failed; nothing was stored', {
    cause: error,
  });
}

/** Extracts the bearer token; undefined when the header is missing or not `Bearer <token>`. */
function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** `application/json`, optionally with a UTF-8 charset. */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  return mediaType === 'application/json' && (charset === undefined || charset === 'utf-8' || charset === 'utf8');
}

/** A full disk is reported as code STORE_FULL, by the store error itself or one of its causes. */
function isStorageFull(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if ((e as { code?: unknown }).code === 'STORE_FULL') return true;
  }
  return false;
}

/** Wraps a store failure: the code only is kept for logs (driver messages may quote data). */
function storeFailure(error: unknown): ReferenceApiError {
  if (isStorageFull(error)) {
    return new ReferenceApiError(
      'REFERENCE_STORE_FULL',
      'the reference data store is full; nothing was stored. Free disk space, then retry',
      { cause: error },
    );
  }
  return new ReferenceApiError(
    'REFERENCE_STORE_UNAVAILABLE',
    'the reference data store did not confirm the load; nothing was stored, retry later',
    { cause: error, headers: { 'retry-after': '5' } },
  );
}

const isKind = (kind: string): kind is ReferenceKind => (REFERENCE_KINDS as readonly string[]).includes(kind);

const publicLoad = (l: ReferenceLoad) => ({
  kind: l.kind,
  version: l.version,
  count: l.count,
  source: l.source,
  loadedAt: new Date(l.loadedAt).toISOString(),
});

/**
 * Registers, in a context of their own (own JSON parser, 64 MiB body limit, error handler):
 *   POST /v1/reference/:kind  {"records": [...]}  → 200 { tenant, kind, version, count } once stored
 *   GET  /v1/reference                            → { tenant, version, loads: [{ kind, version, count, source, loadedAt }] }
 * A load is all or nothing: every record is validated (REFERENCE_RECORD_SCHEMAS), a repeated key
 * is refused, and any problem answers 400 naming each record by index and path, storing nothing.
 * Errors are `{ error: { code, message, requestId, problems? } }`.
 */
export async function registerReferenceRoutes(app: FastifyInstance, options: ReferenceRoutesOptions): Promise<void> {
  const { store } = options;
  const principals = new WeakMap<FastifyRequest, ReferencePrincipal>();
  const requireStore = (): ReferenceStore => {
    if (store !== undefined) return store;
    throw new ReferenceApiError(
      'REFERENCE_NOT_CONFIGURED',
      `reference data needs the detection store, which this deployment does not have${options.notConfiguredHint ? ` (${options.notConfiguredHint})` : ''}`,
    );
  };
  const logOf = (request: FastifyRequest): FastifyBaseLogger =>
    options.logger?.child({ requestId: request.id }) ?? request.log;

  await app.register((api, _pluginOptions, done) => {
    // The collector's ingest route replaces the root's parsers with a raw one; these routes read
    // JSON through fastify's own parser (secure-json-parse: "__proto__" and "constructor" keys
    // are refused, not merged).
    api.removeAllContentTypeParsers();
    api.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: REFERENCE_BODY_LIMIT },
      api.getDefaultJsonParser('error', 'error'),
    );

    api.setErrorHandler((error: FastifyError | Error, request, reply) => {
      const e = toReferenceError(error);
      const log = logOf(request);
      if (e.statusCode >= 500) {
        const cause = e.cause as { code?: unknown; name?: unknown } | undefined;
        log.error({ code: e.code, causeCode: cause?.code, causeName: cause?.name }, 'reference request failed');
      } else {
        log.info({ code: e.code, status: e.statusCode, problems: e.problems.length }, 'reference request rejected');
      }
      void reply.code(e.statusCode).headers(e.headers).send(e.toBody(request.id));
    });

    const checkRequest = (request: FastifyRequest): void => {
      const token = bearerToken(request.headers.authorization);
      if (token === undefined) {
        throw new ReferenceApiError(
          'REFERENCE_UNAUTHORIZED',
          'missing ingest key: send "Authorization: Bearer <ingest key>"',
          { headers: { 'www-authenticate': 'Bearer' } },
        );
      }
      const principal = options.authenticate(token);
      if (principal === undefined) {
        throw new ReferenceApiError('REFERENCE_UNAUTHORIZED', 'unknown or revoked ingest key', {
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        });
      }
      principals.set(request, principal);
      request.log = request.log.child({ tenant: principal.tenant, keyId: principal.keyId });
      requireStore();
      if (request.method === 'POST') {
        // Checked before the body is read: a 64 MiB upload of the wrong kind is refused at once.
        const encoding = request.headers['content-encoding'];
        if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
          throw new ReferenceApiError(
            'REFERENCE_UNSUPPORTED_MEDIA_TYPE',
            'Content-Encoding is not supported here; send the JSON uncompressed',
          );
        }
        const type = request.headers['content-type'];
        if (!isJson(type)) {
          const got = type === undefined ? 'none was sent' : `got "${type.slice(0, 80)}"`;
          throw new ReferenceApiError(
            'REFERENCE_UNSUPPORTED_MEDIA_TYPE',
            `Content-Type must be application/json (UTF-8); ${got}`,
          );
        }
      }
    };
    api.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, next: (error?: Error) => void) => {
      try {
        checkRequest(request);
      } catch (error) {
        next(error as Error);
        return;
      }
      next();
    });

    const principalOf = (request: FastifyRequest): ReferencePrincipal => {
      const principal = principals.get(request);
      if (principal === undefined) throw new Error('request reached the handler without a principal');
      return principal;
    };

    api.post<{ Params: { kind: string } }>(
      '/v1/reference/:kind',
      { bodyLimit: REFERENCE_BODY_LIMIT },
      async (request: FastifyRequest<{ Params: { kind: string } }>, reply: FastifyReply) => {
        const principal = principalOf(request);
        const { kind } = request.params;
        if (!isKind(kind)) {
          throw new ReferenceApiError(
            'REFERENCE_UNKNOWN_KIND',
            `no reference data kind "${kind.slice(0, 40)}"; the kinds are ${REFERENCE_KINDS.join(', ')}`,
          );
        }
        const values = recordsOfBody(request.body);
        const validated = validateReferenceRecords(kind, values);
        if (!validated.ok) {
          const records = new Set(validated.problems.map((p) => p.index)).size;
          throw new ReferenceApiError(
            'REFERENCE_INVALID_RECORDS',
            `${validated.problems.length} problem${validated.problems.length === 1 ? '' : 's'} in ${records} of ${values.length} ${kind} records; nothing was stored`,
            { problems: validated.problems },
          );
        }
        const target = requireStore();
        let load: ReferenceLoad;
        try {
          load = await target.putReference(principal.tenant, kind, validated.records, {
            source: principal.source,
            loadedAt: Date.now(),
          });
        } catch (error) {
          throw storeFailure(error);
        }
        logOf(request).info(
          { tenant: load.tenant, kind, count: load.count, version: load.version },
          'reference data loaded',
        );
        return reply.code(200).send({ tenant: load.tenant, kind, version: load.version, count: load.count });
      },
    );

    api.get('/v1/reference', async (request: FastifyRequest) => {
      const { tenant } = principalOf(request);
      const source = requireStore();
      let loads: ReferenceLoad[];
      try {
        loads = await source.referenceLoads(tenant);
      } catch (error) {
        throw storeFailure(error);
      }
      const version = loads.reduce((v, l) => Math.max(v, l.version), 0);
      return { tenant, version, loads: loads.map(publicLoad) };
    });

    done();
  });
}
