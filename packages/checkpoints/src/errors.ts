/** The checkpoints package's error catalogue (stable codes; messages never contain keys or PHI). */
import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const CHECKPOINT_ERROR_CODES = {
  /** No signing key configured, or the key file cannot be read or parsed. */
  CHECKPOINT_KEY_UNAVAILABLE: 'CHECKPOINT_KEY_UNAVAILABLE',
  /** A checkpoint could not be stored or exported. */
  CHECKPOINT_WRITE_FAILED: 'CHECKPOINT_WRITE_FAILED',
  /** An exported checkpoint directory or file cannot be read. */
  CHECKPOINT_EXPORT_UNREADABLE: 'CHECKPOINT_EXPORT_UNREADABLE',
  /** The stored tiles of a log cannot be brought up to its records. */
  CHECKPOINT_TILES_UNRECOVERABLE: 'CHECKPOINT_TILES_UNRECOVERABLE',
} as const;

export type CheckpointErrorCode = keyof typeof CHECKPOINT_ERROR_CODES;

export class CheckpointError extends CodedError<CheckpointErrorCode> {
  override readonly name = 'CheckpointError';
}

export const isCheckpointError = codedErrorGuard(CheckpointError);
