import {
  canonicalEventColumns,
  checkRecordColumns,
  deriveRecordColumns,
  findRecordColumnMismatch,
  parseEventJson,
  RECORD_COLUMNS,
  type LedgerRecord,
  type RecordColumns,
  type StoredRecord,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { StoreError } from './errors.js';

/**
 * The mapping between a ledger record and an `access_log` row. The query columns (tenant,
 * patient, user, time, …) are denormalised copies of fields of `event_json`, which is the
 * hashed truth; `scan` re-derives them to catch tampering with a column. Pure.
 * The derivation and comparison are @phi-audit/ledger's (record-columns.ts); what is SQLite's
 * own is the row layout and reading values back typed (a changed type counts as tampering).
 */

/** One `access_log` row as inserted (without `seq`, which is `source_offset`). Absent optional fields are ''. */
export interface AccessLogRow extends RecordColumns {
  log: string;
  idx: number;
  source_offset: number;
  event_json: string;
  leaf_hash: string;
  chain: string;
}

/** Column order of `access_log` after `seq`; also the insert's parameter order. */
export const ACCESS_LOG_COLUMNS = [
  'log',
  'idx',
  'source_offset',
  ...RECORD_COLUMNS,
  'event_json',
  'leaf_hash',
  'chain',
] as const satisfies readonly (keyof AccessLogRow)[];

/** Columns copied out of `event_json`, in the order `findColumnMismatch` compares them. */
export const DERIVED_COLUMNS = RECORD_COLUMNS satisfies readonly (keyof AccessLogRow)[];
export type DerivedColumn = (typeof DERIVED_COLUMNS)[number];

/** A row as `scan` reads it: every column as SQLite returns it (typed by the STRICT table, unless tampered). */
export type StoredRow = Record<(typeof ACCESS_LOG_COLUMNS)[number], unknown>;

/** The query columns of one event, as `rowFromRecord` derives them from its `eventJson`. */
export type DerivedColumns = RecordColumns;

/**
 * The query columns of `event` (absent optional fields are ''). For an event AccessEventSchema
 * accepted, equal to what `rowFromRecord` derives from its canonical JSON. Pure.
 */
export const deriveColumns: (event: AccessEvent) => DerivedColumns = deriveRecordColumns;

/**
 * The `access_log` row for a ledger record, query columns derived from `record.eventJson`
 * (checkRecordColumns). Throws STORE_INVALID_RECORD when the record is malformed (bad index or
 * offset, hashes not lowercase hex, event not a valid AccessEvent, event id or tenant
 * disagreeing with the event); the message names the log and index, never event contents.
 * `derived`, when given, must be deriveColumns() of the schema-valid event whose canonical JSON
 * is `record.eventJson` (a writer that built eventJson from that event knows them): eventJson
 * is then not parsed again.
 */
export function rowFromRecord(record: LedgerRecord, derived?: DerivedColumns): AccessLogRow {
  const checked = checkRecordColumns(record, derived);
  if (!checked.ok) throw new StoreError('STORE_INVALID_RECORD', checked.message);
  return {
    log: record.origin,
    idx: record.index,
    source_offset: record.sourceOffset,
    ...checked.columns,
    event_json: record.eventJson,
    leaf_hash: record.leafHash,
    chain: record.chain,
  };
}

/**
 * The first query column of a stored row that disagrees with its `event_json` (value or
 * type), or undefined when all agree; 'event_json' when `event_json` is not a valid event
 * (the verifier's leaf hash check also catches that).
 */
export function findColumnMismatch(stored: StoredRow): DerivedColumn | 'event_json' | undefined {
  // The hot path of a verifying scan: a one-pass recogniser of canonical valid events, whose
  // result verifyLog then reuses for the same text (canonicalEventColumns); else parse + zod.
  const fast = typeof stored.event_json === 'string' ? canonicalEventColumns(stored.event_json) : undefined;
  if (fast !== undefined) return findRecordColumnMismatch(stored, fast);
  const parsed = parseEventJson(stored.event_json);
  if (!parsed.ok) return 'event_json';
  return findRecordColumnMismatch(stored, deriveRecordColumns(parsed.event));
}

/**
 * The StoredRecord `scan` yields for a stored row. Values are passed through as stored
 * (a tampered type shows up in verification, not as an exception here).
 */
export function storedRecordFromRow(row: StoredRow): StoredRecord {
  const record = {
    origin: row.log,
    index: row.idx,
    sourceOffset: row.source_offset,
    eventId: row.event_id,
    tenant: row.tenant,
    eventJson: row.event_json,
    leafHash: row.leaf_hash,
    chain: row.chain,
  } as StoredRecord;
  const mismatch = findColumnMismatch(row);
  if (mismatch !== undefined) record.columnMismatch = mismatch;
  return record;
}

/** Position of each `ACCESS_LOG_COLUMNS` column in a raw scan row (after `idx_text`, `seq_text`). */
const RAW_AT = Object.fromEntries(ACCESS_LOG_COLUMNS.map((c, i) => [c, i + 2])) as Record<
  (typeof ACCESS_LOG_COLUMNS)[number],
  number
>;
const RAW_DERIVED_AT = DERIVED_COLUMNS.map((c) => RAW_AT[c]);

/**
 * `storedRecordFromRow` for a scan row read in raw (array) mode: `idx_text`, `seq_text`, then
 * ACCESS_LOG_COLUMNS in order (SELECT_SCAN_PAGE). Same record, same `columnMismatch`; an
 * array row costs better-sqlite3 about half of an object row, the larger part of a scan.
 */
export function storedRecordFromRawRow(values: readonly unknown[]): StoredRecord {
  const eventJson = values[RAW_AT.event_json];
  const record = {
    origin: values[RAW_AT.log],
    index: values[RAW_AT.idx],
    sourceOffset: values[RAW_AT.source_offset],
    eventId: values[RAW_AT.event_id],
    tenant: values[RAW_AT.tenant],
    eventJson,
    leafHash: values[RAW_AT.leaf_hash],
    chain: values[RAW_AT.chain],
  } as StoredRecord;
  const fast = typeof eventJson === 'string' ? canonicalEventColumns(eventJson) : undefined;
  if (fast !== undefined) {
    // findRecordColumnMismatch by position: strict equality, so a changed type counts.
    for (let k = 0; k < DERIVED_COLUMNS.length; k++) {
      const column = DERIVED_COLUMNS[k] as DerivedColumn;
      if (values[RAW_DERIVED_AT[k] as number] !== fast[column]) {
        record.columnMismatch = column;
        break;
      }
    }
    return record;
  }
  const mismatch = findColumnMismatch(
    Object.fromEntries(ACCESS_LOG_COLUMNS.map((c) => [c, values[RAW_AT[c]]])) as StoredRow,
  );
  if (mismatch !== undefined) record.columnMismatch = mismatch;
  return record;
}
