/**
 * The embedded service's error catalogue. Codes are stable (tests and operators match on them);
 * messages name files and pids, never event contents.
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const EMBEDDED_ERROR_CODES = {
  /** The environment is unusable; the message lists every problem. */
  EMBEDDED_CONFIG_INVALID: 'EMBEDDED_CONFIG_INVALID',
  /** Another live process holds the data directory's lock. */
  EMBEDDED_DATA_DIR_LOCKED: 'EMBEDDED_DATA_DIR_LOCKED',
  /** The data directory cannot be created, locked or written. */
  EMBEDDED_DATA_DIR_UNUSABLE: 'EMBEDDED_DATA_DIR_UNUSABLE',
  /** The HTTP port cannot be bound (in use, or not permitted). */
  EMBEDDED_LISTEN_FAILED: 'EMBEDDED_LISTEN_FAILED',
  /** The ledger's disk (or its PHI_AUDIT_MAX_DB_PAGES quota) is full; nothing of the group was stored. */
  EMBEDDED_STORAGE_FULL: 'EMBEDDED_STORAGE_FULL',
  /** The ledger transaction failed for another reason; nothing of the group was stored. */
  EMBEDDED_STORE_FAILED: 'EMBEDDED_STORE_FAILED',
  /** publish() after close(). */
  EMBEDDED_CLOSED: 'EMBEDDED_CLOSED',
} as const;

export type EmbeddedErrorCode = keyof typeof EMBEDDED_ERROR_CODES;

/** Every error this service throws. The underlying error, if any, is kept as `cause`. */
export class EmbeddedError extends CodedError<EmbeddedErrorCode> {
  override readonly name = 'EmbeddedError';
}

/** True when `err` is an EmbeddedError, optionally with the given code. */
export const isEmbeddedError = codedErrorGuard(EmbeddedError);
