/**
 * The detector's error catalogue. Codes are stable; messages name files, tenants, logs and
 * partitions, never event contents, reference data or credentials.
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const DETECTOR_ERROR_CODES = {
  /** The environment does not describe a runnable detector; the message lists every problem. */
  DETECTOR_CONFIG_INVALID: 'DETECTOR_CONFIG_INVALID',
  /** A policy file is unreadable or invalid; the message names the file and every problem. */
  DETECTOR_POLICY_INVALID: 'DETECTOR_POLICY_INVALID',
  /** A tenant's reference data could not be loaded from the detection store. */
  DETECTOR_REFERENCE_FAILED: 'DETECTOR_REFERENCE_FAILED',
  /** The detection store did not confirm an alert upsert; nothing after it is committed. */
  DETECTOR_STORE_FAILED: 'DETECTOR_STORE_FAILED',
  /** The event source stopped for good; the process should exit and be restarted. */
  DETECTOR_FATAL: 'DETECTOR_FATAL',
} as const;

export type DetectorErrorCode = keyof typeof DETECTOR_ERROR_CODES;

/** Every error the detector throws; the original error is kept as `cause`. */
export class DetectorError extends CodedError<DetectorErrorCode> {
  override readonly name = 'DetectorError';
}

/** True when `err` is a DetectorError, optionally with the given code. */
export const isDetectorError = codedErrorGuard(DetectorError);
