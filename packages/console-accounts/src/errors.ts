/**
 * The console accounts' error catalogue. Codes are stable: callers and tests match on `code`,
 * never on message text. Messages name usernames at most, never passwords, tokens or hashes.
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const CONSOLE_ERROR_CODES = {
  /** The store options or settings are unusable. */
  CONSOLE_INVALID_OPTIONS: 'CONSOLE_INVALID_OPTIONS',
  /** A username, role or tenant list does not satisfy the account rules. */
  CONSOLE_INVALID_USER: 'CONSOLE_INVALID_USER',
  /** createUser for a username that already exists. */
  CONSOLE_USER_EXISTS: 'CONSOLE_USER_EXISTS',
  /** setPassword / setDisabled for a username that does not exist. */
  CONSOLE_UNKNOWN_USER: 'CONSOLE_UNKNOWN_USER',
  /** A password fails the policy (length, contains the username). */
  CONSOLE_WEAK_PASSWORD: 'CONSOLE_WEAK_PASSWORD',
  /** The first account must be an admin, so someone can manage the others. */
  CONSOLE_ADMIN_REQUIRED: 'CONSOLE_ADMIN_REQUIRED',
  /** Disabling the last enabled admin would lock everyone out of account management. */
  CONSOLE_LAST_ADMIN: 'CONSOLE_LAST_ADMIN',
  /** A stored password hash is not in a format this build reads (corrupt or from a newer build). */
  CONSOLE_BAD_HASH: 'CONSOLE_BAD_HASH',
  /** The accounts database cannot be opened or migrated. */
  CONSOLE_OPEN_FAILED: 'CONSOLE_OPEN_FAILED',
  /** The accounts database holds migrations this build does not know. */
  CONSOLE_SCHEMA_TOO_NEW: 'CONSOLE_SCHEMA_TOO_NEW',
  /** A stored row fails validation on read (tampered with or corrupt). */
  CONSOLE_CORRUPT_DATA: 'CONSOLE_CORRUPT_DATA',
  /** The store was used after close(). */
  CONSOLE_CLOSED: 'CONSOLE_CLOSED',
} as const;

export type ConsoleErrorCode = keyof typeof CONSOLE_ERROR_CODES;

/** Every error this package throws. */
export class ConsoleError extends CodedError<ConsoleErrorCode> {
  override readonly name = 'ConsoleError';
}

/** True when `err` is a ConsoleError, optionally with the given code. */
export const isConsoleError = codedErrorGuard(ConsoleError);
