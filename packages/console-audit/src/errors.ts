/**
 * The console audit trail's error catalogue. Codes are stable: routes and tests match on
 * `code`, never on message text. Messages name action kinds and field paths, never values
 * (patient ids and user names are PHI or close to it).
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const CONSOLE_AUDIT_ERROR_CODES = {
  /**
   * The ledger did not acknowledge the console's access events (bus down, disk full, closed):
   * the console must refuse the request (503) and disclose nothing.
   */
  CONSOLE_AUDIT_UNAVAILABLE: 'CONSOLE_AUDIT_UNAVAILABLE',
  /** The action handed to record() is malformed (a console bug): nothing was published or disclosed. */
  CONSOLE_AUDIT_INVALID_ACTION: 'CONSOLE_AUDIT_INVALID_ACTION',
} as const;

export type ConsoleAuditErrorCode = keyof typeof CONSOLE_AUDIT_ERROR_CODES;

/** The HTTP status a console route answers for each code. */
export const CONSOLE_AUDIT_HTTP_STATUS: Readonly<Record<ConsoleAuditErrorCode, number>> = {
  CONSOLE_AUDIT_UNAVAILABLE: 503,
  CONSOLE_AUDIT_INVALID_ACTION: 500,
};

/** Every error this package throws; the publisher's error, if any, is kept as `cause`. */
export class ConsoleAuditError extends CodedError<ConsoleAuditErrorCode> {
  override readonly name = 'ConsoleAuditError';

  /** The HTTP status a console route should answer with. */
  get statusCode(): number {
    return CONSOLE_AUDIT_HTTP_STATUS[this.code];
  }
}

/** True when `err` is a ConsoleAuditError, optionally with the given code. */
export const isConsoleAuditError = codedErrorGuard(ConsoleAuditError);
