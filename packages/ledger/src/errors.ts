/**
 * The ledger package's error catalogue. Codes are stable: callers and tests match on `code`,
 * never on message text. Messages never contain event contents (they may hold PHI).
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

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
export class LedgerError extends CodedError<LedgerErrorCode> {
  override readonly name = 'LedgerError';
}

/** True when `err` is a LedgerError, optionally with the given code. */
export const isLedgerError = codedErrorGuard(LedgerError);
