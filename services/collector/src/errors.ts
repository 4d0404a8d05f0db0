/**
 * The collector's error catalogue. Codes are stable (clients and dashboards match on them);
 * messages are for people. Every error answered over HTTP comes from here.
 */

import { CodedError } from '@phi-audit/schema';

export const COLLECTOR_ERRORS = {
  /** One or more events failed validation; `details` names each (index, eventId, path). */
  INGEST_INVALID_EVENT: { status: 400 },
  /** The body as a whole is unusable: empty, not UTF-8, not JSON, not an array, bad gzip. */
  INGEST_INVALID_BODY: { status: 400 },
  /** Two events of one request share an eventId. */
  INGEST_DUPLICATE_EVENT_ID: { status: 400 },
  /** No, malformed, unknown or revoked ingest key. */
  INGEST_UNAUTHORIZED: { status: 401 },
  /** Events name a tenant or source system the key may not write. */
  INGEST_FORBIDDEN_TENANT: { status: 403 },
  /** Body (compressed or decompressed) over the configured limit. */
  INGEST_BODY_TOO_LARGE: { status: 413 },
  /** More events in one request than allowed. */
  INGEST_TOO_MANY_EVENTS: { status: 413 },
  /** Content-Type is missing or not one the endpoint reads. */
  INGEST_UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  /** Content-Encoding other than gzip or identity. */
  INGEST_UNSUPPORTED_ENCODING: { status: 415 },
  /** The bus did not durably accept the events; retry later (Retry-After is set). */
  INGEST_UNAVAILABLE: { status: 503 },
  /** Embedded mode: the ledger's disk (or storage quota) is full; nothing was stored (Retry-After is set). */
  INGEST_STORAGE_FULL: { status: 507 },
  /** No such route. */
  NOT_FOUND: { status: 404 },
  /** The route exists but not with this method. */
  METHOD_NOT_ALLOWED: { status: 405 },
  /** Any other client error fastify reports (e.g. malformed headers). */
  BAD_REQUEST: { status: 400 },
  /** A bug or an unexpected failure; the message never includes internals. */
  INTERNAL: { status: 500 },
} as const satisfies Record<string, { status: number }>;

export type CollectorErrorCode = keyof typeof COLLECTOR_ERRORS;

/** One problem inside a request, located as precisely as we can. */
export interface ErrorDetail {
  /** Index of the event in the request (0-based; for NDJSON, the data line number - 1). */
  index?: number;
  eventId?: string;
  /** Path inside the event, e.g. `actor.userId`; empty for the event as a whole. */
  path?: string;
  /** 1-based line and column in the body, for syntax errors. */
  line?: number;
  column?: number;
  message: string;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    code: CollectorErrorCode;
    message: string;
    requestId?: string;
    details?: ErrorDetail[];
    /** How many details were left out when there were more than the cap. */
    moreDetails?: number;
  };
}

/** At most this many details are returned; the rest are counted in `moreDetails`. */
export const MAX_ERROR_DETAILS = 100;

/** Every error the collector answers with. `cause` keeps the original error for logs. */
export class CollectorError extends CodedError<CollectorErrorCode> {
  override readonly name = 'CollectorError';
  readonly statusCode: number;
  readonly details: readonly ErrorDetail[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: CollectorErrorCode,
    message: string,
    options: { cause?: unknown; details?: readonly ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(code, message, options);
    this.statusCode = COLLECTOR_ERRORS[code].status;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }

  /** The response body; details capped at MAX_ERROR_DETAILS. */
  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (requestId !== undefined) body.error.requestId = requestId;
    if (this.details.length > 0) {
      body.error.details = this.details.slice(0, MAX_ERROR_DETAILS);
      if (this.details.length > MAX_ERROR_DETAILS) body.error.moreDetails = this.details.length - MAX_ERROR_DETAILS;
    }
    return body;
  }
}
