/**
 * The console HTTP API's error catalogue. Codes are stable (clients and tests match on `code`);
 * messages never quote a request body, a password or a token.
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

/** Each code and the HTTP status it answers with. */
export const CONSOLE_API_ERRORS = {
  /** No session cookie, or the session ended (idle or absolute timeout, logout, user disabled). */
  CONSOLE_UNAUTHENTICATED: 401,
  /** The session's role may not call this route. */
  CONSOLE_FORBIDDEN: 403,
  /** An unsafe method without the session's CSRF token in `x-csrf-token`. */
  CONSOLE_CSRF: 403,
  /** No such route, or a tenant the user does not hold (not confirmed to exist). */
  CONSOLE_NOT_FOUND: 404,
  /** Wrong username or password: one answer for both, so usernames cannot be probed. */
  CONSOLE_LOGIN_FAILED: 401,
  /** Too many failed logins for this username or address; `Retry-After` says when to try again. */
  CONSOLE_LOGIN_THROTTLED: 429,
  /** The request does not match the route's schema. */
  CONSOLE_BAD_REQUEST: 400,
  /** A bug or an unavailable dependency; details are in the server log, not the answer. */
  CONSOLE_INTERNAL: 500,
  /** A route was registered without `config.access` (default deny), or with an unusable one. */
  CONSOLE_ROUTE_WITHOUT_ACCESS: 500,
  /** The console's environment is invalid (cluster mode). */
  CONSOLE_CONFIG_INVALID: 500,
} as const;

export type ConsoleApiErrorCode = keyof typeof CONSOLE_API_ERRORS;

/** The body of every console error answer. */
export interface ConsoleErrorBody {
  error: { code: ConsoleApiErrorCode; message: string; requestId: string };
}

/** Every error the console API answers with. */
export class ConsoleApiError extends CodedError<ConsoleApiErrorCode> {
  override readonly name = 'ConsoleApiError';
  /** Extra response headers (Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ConsoleApiErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(code, message, options);
    this.headers = Object.freeze({ ...options?.headers });
  }

  get statusCode(): number {
    return CONSOLE_API_ERRORS[this.code];
  }

  toBody(requestId: string): ConsoleErrorBody {
    return { error: { code: this.code, message: this.message, requestId } };
  }
}

/** True when `err` is a ConsoleApiError, optionally with the given code. */
export const isConsoleApiError = codedErrorGuard(ConsoleApiError);
