import {
  canonicalEventColumns,
  checkRecordColumns,
  deriveRecordColumns,
  findRecordColumnMismatch,
  invalidRecordMessage,
  parseEventJson,
  RECORD_COLUMNS,
  type LedgerRecord,
  type RecordColumns,
} from '@phi-audit/ledger';
import { StoreError } from './errors.js';

/**
 * The mapping between a ledger record and an `access_log` row. The query columns
 * (tenant, patient, user, time, …) are denormalised copies of fields of `event_json`,
 * which is the hashed truth; `scan` re-derives them to catch tampering with a column.
 * The derivation and comparison are @phi-audit/ledger's (record-columns.ts); what is
 * ClickHouse's own is the second-precision `occurred_at` DateTime text, the 2106 limit of
 * DateTime, and reading every column back as text.
 */

/** One `access_log` row as inserted (JSONEachRow). Absent optional fields are ''. */
export interface AccessLogRow extends RecordColumns {
  log: string;
  idx: number;
  source_offset: number;
  /** 'YYYY-MM-DD hh:mm:ss' in UTC (second precision; `occurred_ms` keeps the ms). */
  occurred_at: string;
  event_json: string;
  leaf_hash: string;
  chain: string;
}

/**
 * Columns copied out of `event_json`; a stored value that disagrees with the JSON is tampering.
 * The shared record columns plus ClickHouse's `occurred_at` DateTime, placed after `tenant`
 * (also the table's column order).
 */
export const DERIVED_COLUMNS = [
  ...RECORD_COLUMNS.slice(0, 2),
  'occurred_at',
  ...RECORD_COLUMNS.slice(2),
] as const satisfies readonly (keyof AccessLogRow)[];
export type DerivedColumn = (typeof DERIVED_COLUMNS)[number];

/** Column order of `access_log`; also the order `scan` compares query columns in. */
export const ACCESS_LOG_COLUMNS = [
  'log',
  'idx',
  'source_offset',
  ...DERIVED_COLUMNS,
  'event_json',
  'leaf_hash',
  'chain',
] as const satisfies readonly (keyof AccessLogRow)[];

/** DateTime is UInt32 seconds on 18.16: the last representable instant, exclusive, in ms. */
const DATETIME_END_MS = 2 ** 32 * 1000;

const DAY_MS = 86_400_000;
/** The last day formatted: events of a batch are mostly from the same day. */
let lastDay = { day: NaN, text: '' };

/**
 * 'YYYY-MM-DD hh:mm:ss' (UTC) of epoch ms ≥ 0: the date part from Date, once per day, the
 * time of day by arithmetic (epoch days are exactly 86,400 s). Equal to
 * toISOString().slice(0, 19).replace('T', ' ') of the whole second (access-log-row.test.ts).
 */
export function dateTimeText(ms: number): string {
  if (!(ms >= 0)) return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay.day) lastDay = { day, text: new Date(day * DAY_MS).toISOString().slice(0, 10) };
  const s = Math.floor((ms - day * DAY_MS) / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return `${lastDay.text} ${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}:${ss < 10 ? '0' : ''}${ss}`;
}

/**
 * The `access_log` row for a ledger record: the query columns are derived from
 * `record.eventJson` (checkRecordColumns). Pure. Throws STORE_INVALID_RECORD when the record
 * is malformed (bad index or offset, hashes not lowercase hex, event not a valid AccessEvent,
 * event id or tenant disagreeing with the event, event time past 2106) — the message names
 * the log and index, never event contents.
 */
export function rowFromRecord(record: LedgerRecord): AccessLogRow {
  const checked = checkRecordColumns(record);
  if (!checked.ok) throw new StoreError('STORE_INVALID_RECORD', checked.message);
  const { event_id, tenant, ...columns } = checked.columns;
  if (columns.occurred_ms >= DATETIME_END_MS) {
    throw new StoreError(
      'STORE_INVALID_RECORD',
      invalidRecordMessage(record, 'occurredAt is after 2106, beyond ClickHouse DateTime'),
    );
  }
  return {
    log: record.origin,
    idx: record.index,
    source_offset: record.sourceOffset,
    // The JSON keys keep ACCESS_LOG_COLUMNS order: occurred_at after tenant.
    event_id,
    tenant,
    occurred_at: dateTimeText(columns.occurred_ms),
    ...columns,
    event_json: record.eventJson,
    leaf_hash: record.leafHash,
    chain: record.chain,
  };
}

/** Bytes of the column names with their JSON framing (`"name":` and a comma each), plus `{}` and the newline. */
const ROW_FRAMING_BYTES = ACCESS_LOG_COLUMNS.reduce((sum, c) => sum + c.length + 4, 3);

/**
 * An upper bound of Buffer.byteLength(JSON.stringify(row)) + 1 (the JSONEachRow line), cheap
 * to compute: a UTF-16 unit of a string takes at most 6 bytes once escaped ("\u001f"; a
 * non-ASCII unit is at most 3 bytes of UTF-8), a number at most 32 characters.
 */
export function rowBytesUpperBound(row: AccessLogRow): number {
  let bytes = ROW_FRAMING_BYTES;
  for (const column of ACCESS_LOG_COLUMNS) {
    const value = row[column];
    bytes += typeof value === 'string' ? 2 + 6 * value.length : 32;
  }
  return bytes;
}

/** A stored row as `scan` reads it (JSONEachRow, 64-bit integers quoted): every column as text. */
export type StoredRowText = Record<(typeof ACCESS_LOG_COLUMNS)[number], string>;

/**
 * The first query column of a stored row that disagrees with its `event_json`, or
 * undefined when all agree. When `event_json` itself is not a valid event, returns
 * 'event_json' (the verifier's leaf hash check also catches that).
 */
export function findColumnMismatch(stored: StoredRowText): DerivedColumn | 'event_json' | undefined {
  // The hot path of a verifying scan: a one-pass recogniser of canonical valid events, whose
  // result verifyLog then reuses for the same text (canonicalEventColumns); else parse + zod.
  let derived: RecordColumns | undefined =
    typeof stored.event_json === 'string' ? canonicalEventColumns(stored.event_json) : undefined;
  if (derived === undefined) {
    const parsed = parseEventJson(stored.event_json);
    if (!parsed.ok) return 'event_json';
    derived = deriveRecordColumns(parsed.event);
  }
  // JSONEachRow quotes UInt64: compare every column as text. occurred_at comes right after
  // tenant in DERIVED_COLUMNS order.
  const mismatch = findRecordColumnMismatch(stored, derived, String);
  if (mismatch === 'event_id' || mismatch === 'tenant') return mismatch;
  if (stored.occurred_at !== dateTimeText(derived.occurred_ms)) return 'occurred_at';
  return mismatch;
}
