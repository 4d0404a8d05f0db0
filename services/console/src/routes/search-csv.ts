import { stringify } from 'csv-stringify/sync';
import type { AccessRow } from '@phi-audit/ledger';

/**
 * The CSV of an access search. Cells are written by csv-stringify (RFC 4180 quoting) with its
 * `escape_formulas`: a text cell starting with = + - @ TAB or CR (and their full-width forms)
 * gets a leading apostrophe, so an event id or workstation like `=HYPERLINK(...)` stays text in a
 * spreadsheet (OWASP CSV injection). Times are ISO 8601 UTC.
 */

const COLUMNS = [
  'occurredAt',
  'receivedAt',
  'eventId',
  'sourceSystem',
  'userId',
  'userRole',
  'userDepartment',
  'workstation',
  'patientId',
  'action',
  'resourceType',
  'outcome',
  'origin',
  'index',
] as const;

/** The header line's cells, in order. */
export const ACCESS_CSV_COLUMNS: readonly string[] = COLUMNS;

const iso = (ms: number) => new Date(ms).toISOString();

/** The rows as one CSV document with a header line (CRLF line ends). */
export function accessesToCsv(rows: readonly AccessRow[]): string {
  const records = rows.map((r) => [
    iso(r.occurredAt),
    iso(r.receivedAt),
    r.eventId,
    r.sourceSystem,
    r.userId,
    r.userRole ?? '',
    r.userDepartment ?? '',
    r.workstation ?? '',
    r.patientId ?? '',
    r.action,
    r.resourceType,
    r.outcome,
    r.origin,
    r.index,
  ]);
  return stringify(records, {
    header: true,
    columns: [...COLUMNS],
    escape_formulas: true,
    record_delimiter: 'windows',
  });
}
