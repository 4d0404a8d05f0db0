/**
 * The ledger writer's error catalogue. Codes are stable; messages name logs, partitions and
 * offsets, never event contents or credentials.
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const WRITER_ERROR_CODES = {
  /** The environment does not describe a runnable writer; the message lists every problem. */
  WRITER_CONFIG_INVALID: 'WRITER_CONFIG_INVALID',
  /** Reading a log's head from the store failed. */
  WRITER_HEAD_FAILED: 'WRITER_HEAD_FAILED',
  /** Loading a log's duplicate window (its latest idempotency keys) from the store failed. */
  WRITER_WINDOW_FAILED: 'WRITER_WINDOW_FAILED',
  /** A log's Merkle tiles could not be loaded or brought up to its records. */
  WRITER_TILES_FAILED: 'WRITER_TILES_FAILED',
  /** The store did not confirm an append; nothing of the batch is committed. */
  WRITER_APPEND_FAILED: 'WRITER_APPEND_FAILED',
  /** A poison message could not be set aside on the rejected topic. */
  WRITER_REJECT_FAILED: 'WRITER_REJECT_FAILED',
  /** The consumer stopped for good; the process should exit and be restarted. */
  WRITER_FATAL: 'WRITER_FATAL',
} as const;

export type WriterErrorCode = keyof typeof WRITER_ERROR_CODES;

/** Every error the ledger writer throws; the original error is kept as `cause`. */
export class WriterError extends CodedError<WriterErrorCode> {
  override readonly name = 'WriterError';
}

/** True when `err` is a WriterError, optionally with the given code. */
export const isWriterError = codedErrorGuard(WriterError);
