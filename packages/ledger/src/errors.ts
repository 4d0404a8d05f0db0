/**
 * The ledger package's error catalogue. Codes are stable: callers and tests match on `code`,
 * never on message text. Messages never contain event contents (they may hold PHI).
 */

export const LEDGER_ERROR_CODES = {
  /** A caller passed a value the ledger cannot encode faithfully (bad integer, lone surrogate, …). */
  LEDGER_INVALID_INPUT: 'LEDGER_INVALID_INPUT',
  /** An event given to the chain builder is not a valid AccessEvent. */
  LEDGER_INVALID_EVENT: 'LEDGER_INVALID_EVENT',
  /** A source offset did not move forward within a log. */
  LEDGER_OFFSET_REGRESSION: 'LEDGER_OFFSET_REGRESSION',
  /** A log head is malformed (negative size, bad chain hex, …). */
  LEDGER_INVALID_HEAD: 'LEDGER_INVALID_HEAD',
} as const;

export type LedgerErrorCode = keyof typeof LEDGER_ERROR_CODES;

/** Every error this package throws. */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True when `err` is a LedgerError, optionally with the given code. */
export function isLedgerError(err: unknown, code?: LedgerErrorCode): err is LedgerError {
  return err instanceof LedgerError && (code === undefined || err.code === code);
}
