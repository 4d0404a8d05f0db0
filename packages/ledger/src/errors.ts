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
  /** A signer or verifier key text is malformed, of another algorithm, or its key ID does not match. */
  LEDGER_KEY_INVALID: 'LEDGER_KEY_INVALID',
  /** A signed note cannot be parsed (or its text cannot be signed as a note). */
  LEDGER_NOTE_MALFORMED: 'LEDGER_NOTE_MALFORMED',
  /** A note carries a signature from a trusted key that does not verify. */
  LEDGER_NOTE_BAD_SIGNATURE: 'LEDGER_NOTE_BAD_SIGNATURE',
  /** A note carries no signature from any trusted key. */
  LEDGER_NOTE_UNVERIFIED: 'LEDGER_NOTE_UNVERIFIED',
  /** A checkpoint body is not origin, size and base64 root as C2SP tlog-checkpoint defines. */
  LEDGER_CHECKPOINT_MALFORMED: 'LEDGER_CHECKPOINT_MALFORMED',
  /** A Merkle tile needed for a proof is not stored (or not yet as wide as the tree size needs). */
  LEDGER_TILES_MISSING: 'LEDGER_TILES_MISSING',
} as const;

export type LedgerErrorCode = keyof typeof LEDGER_ERROR_CODES;

/** Every error this package throws. */
export class LedgerError extends CodedError<LedgerErrorCode> {
  override readonly name = 'LedgerError';
}

/** True when `err` is a LedgerError, optionally with the given code. */
export const isLedgerError = codedErrorGuard(LedgerError);
