/**
 * The SQLite store's error catalogue. Codes are stable: callers and tests match on `code`,
 * never on message text. Messages never contain event contents; the driver's error is kept
 * only as `cause`.
 */

import { CaseRowError, DetectionRowError } from '@phi-audit/rules';
import { CodedError, codedErrorGuard } from '@phi-audit/schema';
import type { Logger } from 'pino';

export const STORE_ERROR_CODES = {
  /** The store options are unusable (empty file name, bad maxPageCount). */
  STORE_INVALID_OPTIONS: 'STORE_INVALID_OPTIONS',
  /** A query argument is malformed (bad limit, lone surrogate, unsafe integer). */
  STORE_INVALID_VALUE: 'STORE_INVALID_VALUE',
  /** A ledger record handed to append is malformed or inconsistent with its event. */
  STORE_INVALID_RECORD: 'STORE_INVALID_RECORD',
  /** The database file cannot be opened (missing for a read-only open, not a database, no permission). */
  STORE_OPEN_FAILED: 'STORE_OPEN_FAILED',
  /** The disk, or the configured max_page_count, is full; nothing of the batch was stored. */
  STORE_FULL: 'STORE_FULL',
  /** The insert failed for another reason; nothing of the batch was stored. */
  STORE_INSERT_FAILED: 'STORE_INSERT_FAILED',
  /** A read failed. */
  STORE_QUERY_FAILED: 'STORE_QUERY_FAILED',
  /** A migration failed; it was rolled back and later migrations were not attempted. */
  STORE_MIGRATION_FAILED: 'STORE_MIGRATION_FAILED',
  /** The database holds migrations this code does not know: it is newer than this build. */
  STORE_SCHEMA_TOO_NEW: 'STORE_SCHEMA_TOO_NEW',
  /** A read-only open found no schema, or an older one it may not upgrade. */
  STORE_SCHEMA_OUTDATED: 'STORE_SCHEMA_OUTDATED',
  /** A write was attempted through a store opened read-only. */
  STORE_READONLY: 'STORE_READONLY',
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
} as const;

export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;

/** Every error this package throws. */
export class StoreError extends CodedError<StoreErrorCode> {
  override readonly name = 'StoreError';
}

/** True when `err` is a StoreError, optionally with the given code. */
export const isStoreError = codedErrorGuard(StoreError);

/**
 * The SQLite result code of a driver error (e.g. 'SQLITE_FULL', 'SQLITE_CONSTRAINT_PRIMARYKEY'):
 * safe to log and to put in messages, unlike some driver messages.
 */
export function sqliteErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

/**
 * The StoreError to throw for a failed SQLite call: a StoreError passes through; anything else is
 * logged (codes only: driver messages are not guaranteed free of data) and wrapped as `code`.
 */
export function storeFailure(
  logger: Pick<Logger, 'error'>,
  code: StoreErrorCode,
  what: string,
  err: unknown,
): StoreError {
  if (isStoreError(err)) return err;
  const sqliteCode = sqliteErrorCode(err);
  logger.error({ code, sqliteCode }, `${what} failed`);
  return new StoreError(code, `${what} failed${sqliteCode === undefined ? '' : ` (${sqliteCode})`}`, { cause: err });
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
