import { sealedEventOf, type LedgerRecord } from '@phi-audit/ledger';
import { AccessEventSchema, type AccessEvent } from '@phi-audit/schema';
import { StoreError } from './errors.js';

/**
 * The mapping between a ledger record and an `access_log` row. The query columns
 * (tenant, patient, user, time, …) are denormalised copies of fields of `event_json`,
 * which is the hashed truth; `scan` re-derives them to catch tampering with a column.
 */

/** One `access_log` row as inserted (JSONEachRow). Absent optional fields are ''. */
export interface AccessLogRow {
  log: string;
  idx: number;
  source_offset: number;
  event_id: string;
  tenant: string;
  /** 'YYYY-MM-DD hh:mm:ss' in UTC (second precision; `occurred_ms` keeps the ms). */
  occurred_at: string;
  occurred_ms: number;
  received_ms: number;
  source_system: string;
  user_id: string;
  user_role: string;
  user_department: string;
  workstation: string;
  patient_id: string;
  action: string;
  resource_type: string;
  outcome: string;
  event_json: string;
  leaf_hash: string;
  chain: string;
}

/** Column order of `access_log`; also the order `scan` compares query columns in. */
export const ACCESS_LOG_COLUMNS = [
  'log',
  'idx',
  'source_offset',
  'event_id',
  'tenant',
  'occurred_at',
  'occurred_ms',
  'received_ms',
  'source_system',
  'user_id',
  'user_role',
  'user_department',
  'workstation',
  'patient_id',
  'action',
  'resource_type',
  'outcome',
  'event_json',
  'leaf_hash',
  'chain',
] as const satisfies readonly (keyof AccessLogRow)[];

/** Columns copied out of `event_json`; a stored value that disagrees with the JSON is tampering. */
export const DERIVED_COLUMNS = [
  'event_id',
  'tenant',
  'occurred_at',
  'occurred_ms',
  'received_ms',
  'source_system',
  'user_id',
  'user_role',
  'user_department',
  'workstation',
  'patient_id',
  'action',
  'resource_type',
  'outcome',
] as const satisfies readonly (keyof AccessLogRow)[];
export type DerivedColumn = (typeof DERIVED_COLUMNS)[number];

/** DateTime is UInt32 seconds on 18.16: the last representable instant, exclusive, in ms. */
const DATETIME_END_MS = 2 ** 32 * 1000;
const HASH_HEX = /^[0-9a-f]{64}$/;

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

function derive(event: AccessEvent): Pick<AccessLogRow, DerivedColumn> {
  return {
    event_id: event.eventId,
    tenant: event.tenant,
    occurred_at: dateTimeText(event.occurredAt),
    occurred_ms: event.occurredAt,
    received_ms: event.receivedAt,
    source_system: event.source.system,
    user_id: event.actor.userId,
    user_role: event.actor.role ?? '',
    user_department: event.actor.department ?? '',
    workstation: event.actor.workstation ?? '',
    patient_id: event.patient.id,
    action: event.action,
    resource_type: event.resource.type,
    outcome: event.outcome,
  };
}

type Parsed = { ok: true; event: AccessEvent } | { ok: false; reason: string };

function parseEventJson(eventJson: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(eventJson);
  } catch {
    return { ok: false, reason: 'event_json is not JSON' };
  }
  const parsed = AccessEventSchema.safeParse(value);
  if (!parsed.success) {
    // Field paths only: values may be PHI.
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(event)').join(', ');
    return { ok: false, reason: `event_json is not a valid AccessEvent (fields: ${fields})` };
  }
  return { ok: true, event: parsed.data };
}

/**
 * The `access_log` row for a ledger record: the query columns are derived from
 * `record.eventJson`. Pure. Throws STORE_INVALID_RECORD when the record is malformed
 * (bad index or offset, hashes not lowercase hex, event not a valid AccessEvent, event
 * id or tenant disagreeing with the event, event time past 2106) — the message names
 * the log and index, never event contents.
 */
export function rowFromRecord(record: LedgerRecord): AccessLogRow {
  const at = `log "${String(record.origin).slice(0, 200)}" index ${String(record.index)}`;
  const bad = (what: string): StoreError => new StoreError('STORE_INVALID_RECORD', `record ${at}: ${what}`);
  if (typeof record.origin !== 'string' || record.origin.length === 0 || !record.origin.isWellFormed()) {
    throw bad('origin must be a non-empty, well-formed string');
  }
  if (!Number.isSafeInteger(record.index) || record.index < 0) throw bad('index must be a non-negative safe integer');
  if (!Number.isSafeInteger(record.sourceOffset) || record.sourceOffset < 0) {
    throw bad('sourceOffset must be a non-negative safe integer');
  }
  if (!HASH_HEX.test(record.leafHash)) throw bad('leafHash must be 64 lowercase hex digits');
  if (!HASH_HEX.test(record.chain)) throw bad('chain must be 64 lowercase hex digits');
  if (typeof record.eventJson !== 'string' || !record.eventJson.isWellFormed()) {
    throw bad('eventJson must be a well-formed string');
  }
  // A record the chain builder made from a sealed event carries that event: parsing and
  // validating its eventJson again would only rebuild it.
  let event = sealedEventOf(record);
  if (event === undefined) {
    const parsed = parseEventJson(record.eventJson);
    if (!parsed.ok) throw bad(parsed.reason);
    event = parsed.event;
  }
  if (event.eventId !== record.eventId) throw bad('eventId differs from the event');
  if (event.tenant !== record.tenant) throw bad('tenant differs from the event');
  if (event.occurredAt >= DATETIME_END_MS) throw bad('occurredAt is after 2106, beyond ClickHouse DateTime');
  return {
    log: record.origin,
    idx: record.index,
    source_offset: record.sourceOffset,
    ...derive(event),
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
 * undefined when all agree. When
 * `event_json` itself is not a valid event, returns 'event_json' (the verifier's leaf
 * hash check also catches that).
 */
export function findColumnMismatch(stored: StoredRowText): DerivedColumn | 'event_json' | undefined {
  const parsed = parseEventJson(stored.event_json);
  if (!parsed.ok) return 'event_json';
  const derived = derive(parsed.event);
  for (const column of DERIVED_COLUMNS) {
    if (stored[column] !== String(derived[column])) return column;
  }
  return undefined;
}
