/**
 * The bus package's error catalogue. Codes are stable: callers and tests match on `code`,
 * never on message text. Messages name topics, partitions and offsets, never message contents
 * (they may hold PHI).
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const BUS_ERROR_CODES = {
  /** No broker answered (connection refused, metadata unavailable, timeout). */
  BUS_UNAVAILABLE: 'BUS_UNAVAILABLE',
  /** A produce request was not acknowledged by all in-sync replicas. */
  BUS_PRODUCE_FAILED: 'BUS_PRODUCE_FAILED',
  /** The consumer could not join, fetch or commit. */
  BUS_CONSUME_FAILED: 'BUS_CONSUME_FAILED',
  /** A topic could not be created or described. */
  BUS_TOPIC_SETUP_FAILED: 'BUS_TOPIC_SETUP_FAILED',
} as const;

export type BusErrorCode = keyof typeof BUS_ERROR_CODES;

/** Every error this package throws. The underlying kafkajs error, if any, is kept as `cause`. */
export class BusError extends CodedError<BusErrorCode> {
  override readonly name = 'BusError';
}

/** True when `err` is a BusError, optionally with the given code. */
export const isBusError = codedErrorGuard(BusError);

/**
 * Fields that are safe to log for any error: its name, and for errors from one of our catalogues
 * (a stable upper-case `code`) also the message, which those catalogues keep free of PHI.
 * Foreign messages (a database echoing a rejected row, say) are left out; the chain of causes
 * is summarised by name and code only.
 */
export function errorSummary(err: unknown): {
  errorName: string;
  errorCode?: string;
  errorMessage?: string;
  causes?: string[];
} {
  if (!(err instanceof Error)) return { errorName: typeof err };
  const code = (err as { code?: unknown }).code;
  const stable = typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code);
  const causes: string[] = [];
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth += 1) {
    const c = (cause as { code?: unknown; type?: unknown }).code ?? (cause as { type?: unknown }).type;
    causes.push(typeof c === 'string' || typeof c === 'number' ? `${cause.name}(${c})` : cause.name);
    cause = cause.cause;
  }
  return {
    errorName: err.name,
    ...(stable ? { errorCode: code, errorMessage: err.message } : {}),
    ...(causes.length > 0 ? { causes } : {}),
  };
}
