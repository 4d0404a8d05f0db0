/**
 * The ClickHouse store's error catalogue. Codes are stable: callers and tests match on
 * `code`, never on message text. Messages never contain event contents or credentials;
 * the driver's error (which may quote rows) is kept only as `cause`.
 */

import { CaseRowError, DetectionRowError } from '@phi-audit/rules';
import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const STORE_ERROR_CODES = {
  /** The store options are unusable (bad URL, bad database name, bad timeout). */
  STORE_INVALID_OPTIONS: 'STORE_INVALID_OPTIONS',
  /** A value cannot be written into SQL faithfully (lone surrogate, unsafe integer, bad identifier). */
  STORE_INVALID_VALUE: 'STORE_INVALID_VALUE',
  /** A ledger record handed to append() is malformed or inconsistent with its event. */
  STORE_INVALID_RECORD: 'STORE_INVALID_RECORD',
  /** append() was given more rows than one atomic insert may carry. */
  STORE_BATCH_TOO_LARGE: 'STORE_BATCH_TOO_LARGE',
  /** The insert failed; nothing of the batch was stored. */
  STORE_INSERT_FAILED: 'STORE_INSERT_FAILED',
  /**
   * append() stored its records but the insert of their Merkle tiles failed (ClickHouse has no
   * transaction over two tables): the tiles lag and are rebuilt when the writer next loads the log.
   */
  STORE_TILES_NOT_STORED: 'STORE_TILES_NOT_STORED',
  /** A read query failed. */
  STORE_QUERY_FAILED: 'STORE_QUERY_FAILED',
  /** A migration statement failed; later migrations were not attempted. */
  STORE_MIGRATION_FAILED: 'STORE_MIGRATION_FAILED',
  /** The database holds migrations this code does not know: it is newer than this build. */
  STORE_SCHEMA_TOO_NEW: 'STORE_SCHEMA_TOO_NEW',
  /** The store was used after close(). */
  STORE_CLOSED: 'STORE_CLOSED',
  /** A reference-data load holds two records with the same referenceKey; nothing of it was stored. */
  STORE_DUPLICATE_REFERENCE_KEY: 'STORE_DUPLICATE_REFERENCE_KEY',
  /** A stored row fails validation on read (tampered with or corrupt): nothing of the read is returned. */
  STORE_CORRUPT_DATA: 'STORE_CORRUPT_DATA',
  /** A decision names an alert not stored for its tenant; no decision of the call was stored. */
  STORE_UNKNOWN_ALERT: 'STORE_UNKNOWN_ALERT',
  /** A case event names no case opened for its tenant; no event of the call was stored. */
  STORE_UNKNOWN_CASE: 'STORE_UNKNOWN_CASE',
  /** A case event reuses a caseId (opened) or an eventId of its tenant; no event of the call was stored. */
  STORE_CASE_EXISTS: 'STORE_CASE_EXISTS',
  /** The users.d template could not be read or rendered. */
  STORE_USERS_TEMPLATE: 'STORE_USERS_TEMPLATE',
} as const;

export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;

/** Every error this package throws. */
export class StoreError extends CodedError<StoreErrorCode> {
  override readonly name = 'StoreError';
}

/** True when `err` is a StoreError, optionally with the given code. */
export const isStoreError = codedErrorGuard(StoreError);

/**
 * The ClickHouse error code of a driver error (e.g. "27" for a parse error), for logs:
 * the code is safe to log, the message is not (it can quote the offending row).
 */
export function clickHouseErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string' || typeof code === 'number') return String(code);
  }
  return undefined;
}

/**
 * A value check of the shared detection or case row mapping (rules' DetectionRowError,
 * CaseRowError) as this package's StoreError with the same code; undefined for anything else.
 */
export function rowCheckError(err: unknown): StoreError | undefined {
  return err instanceof DetectionRowError || err instanceof CaseRowError
    ? new StoreError(err.code, err.message, { cause: err })
    : undefined;
}

/** Runs a value check, its DetectionRowError or CaseRowError rethrown as a StoreError (rowCheckError). */
export function checkedValues<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw rowCheckError(err) ?? err;
  }
}
