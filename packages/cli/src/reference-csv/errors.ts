import { CodedError } from '@phi-audit/schema';

/** Problems with a CSV file or its mapping as a whole (not one cell), each a clear message. */
export const REFERENCE_CSV_ERRORS = {
  /** The CSV cannot be parsed (unclosed quote, rows of different lengths, …). */
  CSV_UNREADABLE: 'CSV_UNREADABLE',
  /** No header row, a blank or repeated header, or no data rows. */
  CSV_BAD_HEADER: 'CSV_BAD_HEADER',
  /** The mapping file is not a JSON object of field → column, or names an unknown field or column. */
  CSV_BAD_MAPPING: 'CSV_BAD_MAPPING',
  /** A required field (or part of the address set) has no column. */
  CSV_MISSING_COLUMNS: 'CSV_MISSING_COLUMNS',
  /** Without a mapping, a column that is not a field of the kind. */
  CSV_UNKNOWN_COLUMNS: 'CSV_UNKNOWN_COLUMNS',
  /** More rows than one load may carry. */
  CSV_TOO_MANY_ROWS: 'CSV_TOO_MANY_ROWS',
} as const;

export type ReferenceCsvErrorCode = keyof typeof REFERENCE_CSV_ERRORS;

export class ReferenceCsvError extends CodedError<ReferenceCsvErrorCode> {
  override readonly name = 'ReferenceCsvError';
}
