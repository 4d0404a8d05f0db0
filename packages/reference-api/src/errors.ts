/**
 * The reference-data API's error catalogue. Codes are stable (the CLI and clients match on them);
 * messages are for people and never quote a record's values (names, addresses and ids are PHI).
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const REFERENCE_API_ERRORS = {
  /** No, malformed, unknown, revoked or auditor key: reference data is loaded with an ingest key. */
  REFERENCE_UNAUTHORIZED: { status: 401 },
  /** The kind in the path is not one of REFERENCE_KINDS. */
  REFERENCE_UNKNOWN_KIND: { status: 404 },
  /** The body as a whole is unusable: empty, not JSON, not `{"records": [...]}`, a `__proto__` key. */
  REFERENCE_INVALID_BODY: { status: 400 },
  /** One or more records failed validation or repeat a key; `problems` names each (index, path). */
  REFERENCE_INVALID_RECORDS: { status: 400 },
  /** More records than one load may carry. */
  REFERENCE_TOO_MANY_RECORDS: { status: 413 },
  /** The body is over the routes' limit. */
  REFERENCE_BODY_TOO_LARGE: { status: 413 },
  /** Content-Type other than application/json, or a Content-Encoding. */
  REFERENCE_UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  /** This deployment has no detection store (cluster mode without ClickHouse settings). */
  REFERENCE_NOT_CONFIGURED: { status: 503 },
  /** The store did not commit (or could not be read); nothing was stored. */
  REFERENCE_STORE_UNAVAILABLE: { status: 503 },
  /** The store's disk (or quota) is full; nothing was stored. */
  REFERENCE_STORE_FULL: { status: 507 },
  /** Any other client error fastify reports (malformed headers, …). */
  REFERENCE_BAD_REQUEST: { status: 400 },
} as const satisfies Record<string, { status: number }>;

export type ReferenceApiErrorCode = keyof typeof REFERENCE_API_ERRORS;

/** One problem of one record: where it is, never what the value was. */
export interface RecordProblem {
  /** 0-based index of the record in `records`. */
  index: number;
  /** Dotted path inside the record (`address.postalCode`); empty for the record as a whole. */
  path: string;
  message: string;
}

/** At most this many problems are returned; the rest are counted in `moreProblems`. */
export const MAX_PROBLEMS = 100;

/** The JSON body of every error response. */
export interface ReferenceErrorBody {
  error: {
    code: ReferenceApiErrorCode;
    message: string;
    requestId?: string;
    problems?: RecordProblem[];
    /** How many problems were left out when there were more than MAX_PROBLEMS. */
    moreProblems?: number;
  };
}

/** Every error the reference routes answer with; `cause` keeps the original error for logs. */
export class ReferenceApiError extends CodedError<ReferenceApiErrorCode> {
  override readonly name = 'ReferenceApiError';
  readonly statusCode: number;
  readonly problems: readonly RecordProblem[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ReferenceApiErrorCode,
    message: string,
    options: { cause?: unknown; problems?: readonly RecordProblem[]; headers?: Record<string, string> } = {},
  ) {
    super(code, message, options);
    this.statusCode = REFERENCE_API_ERRORS[code].status;
    this.problems = options.problems ?? [];
    this.headers = options.headers ?? {};
  }

  /** The response body; problems capped at MAX_PROBLEMS. */
  toBody(requestId?: string): ReferenceErrorBody {
    const body: ReferenceErrorBody = { error: { code: this.code, message: this.message } };
    if (requestId !== undefined) body.error.requestId = requestId;
    if (this.problems.length > 0) {
      body.error.problems = this.problems.slice(0, MAX_PROBLEMS);
      if (this.problems.length > MAX_PROBLEMS) body.error.moreProblems = this.problems.length - MAX_PROBLEMS;
    }
    return body;
  }
}

/** True when `err` is a ReferenceApiError (with `code`, if given). */
export const isReferenceApiError = codedErrorGuard(ReferenceApiError);
