import { sealedEventOf, type LedgerRecord, type StoredRecord } from '@phi-audit/ledger';
import { AccessEventSchema, type AccessEvent } from '@phi-audit/schema';
import { StoreError } from './errors.js';

/**
 * The mapping between a ledger record and an `access_log` row. The query columns (tenant,
 * patient, user, time, …) are denormalised copies of fields of `event_json`, which is the
 * hashed truth; `scan` re-derives them to catch tampering with a column. Pure.
 *
 * Twin of store-clickhouse's access-log-row.ts (`rowFromRecord`, `findColumnMismatch`),
 * minus ClickHouse's second-precision `occurred_at` column; both belong in @phi-audit/ledger.
 */

/** One `access_log` row as inserted (without `seq`, which is `source_offset`). Absent optional fields are ''. */
export interface AccessLogRow {
  log: string;
  idx: number;
  source_offset: number;
  event_id: string;
  tenant: string;
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

/** Column order of `access_log` after `seq`; also the insert's parameter order. */
export const ACCESS_LOG_COLUMNS = [
  'log',
  'idx',
  'source_offset',
  'event_id',
  'tenant',
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

/** Columns copied out of `event_json`, in the order `findColumnMismatch` compares them. */
export const DERIVED_COLUMNS = [
  'event_id',
  'tenant',
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

/** A row as `scan` reads it: every column as SQLite returns it (typed by the STRICT table, unless tampered). */
export type StoredRow = Record<(typeof ACCESS_LOG_COLUMNS)[number], unknown>;

const HASH_HEX = /^[0-9a-f]{64}$/;

/** The query columns of one event, as `rowFromRecord` derives them from its `eventJson`. */
export type DerivedColumns = Pick<AccessLogRow, DerivedColumn>;

/**
 * The query columns of `event` (absent optional fields are ''). For an event AccessEventSchema
 * accepted, equal to what `rowFromRecord` derives from its canonical JSON. Pure.
 */
export function deriveColumns(event: AccessEvent): DerivedColumns {
  return derive(event);
}

function derive(event: AccessEvent): DerivedColumns {
  return {
    event_id: event.eventId,
    tenant: event.tenant,
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
 * The `access_log` row for a ledger record, query columns derived from `record.eventJson`.
 * Throws STORE_INVALID_RECORD when the record is malformed (bad index or offset, hashes not
 * lowercase hex, event not a valid AccessEvent, event id or tenant disagreeing with the
 * event); the message names the log and index, never event contents. `derived`, when given,
 * must be deriveColumns() of the schema-valid event whose canonical JSON is `record.eventJson`
 * (a writer that built eventJson from that event knows them): eventJson is then not parsed again.
 */
export function rowFromRecord(record: LedgerRecord, derived?: DerivedColumns): AccessLogRow {
  const at = `log "${String(record.origin).slice(0, 200)}" index ${String(record.index)}`;
  const bad = (what: string): StoreError => new StoreError('STORE_INVALID_RECORD', `record ${at}: ${what}`);
  if (typeof record.origin !== 'string' || record.origin.length === 0 || !record.origin.isWellFormed()) {
    throw bad('origin must be a non-empty, well-formed string');
  }
  if (!Number.isSafeInteger(record.index) || record.index < 0) throw bad('index must be a non-negative safe integer');
  if (!Number.isSafeInteger(record.sourceOffset) || record.sourceOffset < 0) {
    throw bad('sourceOffset must be a non-negative safe integer');
  }
  if (typeof record.leafHash !== 'string' || !HASH_HEX.test(record.leafHash)) {
    throw bad('leafHash must be 64 lowercase hex digits');
  }
  if (typeof record.chain !== 'string' || !HASH_HEX.test(record.chain))
    throw bad('chain must be 64 lowercase hex digits');
  if (typeof record.eventJson !== 'string' || !record.eventJson.isWellFormed()) {
    throw bad('eventJson must be a well-formed string');
  }
  // A record the chain builder made from a sealed event carries that event (its eventJson is
  // the canonical JSON of it): parsing and validating eventJson again would only rebuild it.
  let columns = derived;
  if (columns === undefined) {
    let event = sealedEventOf(record);
    if (event === undefined) {
      const parsed = parseEventJson(record.eventJson);
      if (!parsed.ok) throw bad(parsed.reason);
      event = parsed.event;
    }
    columns = derive(event);
  }
  if (columns.event_id !== record.eventId) throw bad('eventId differs from the event');
  if (columns.tenant !== record.tenant) throw bad('tenant differs from the event');
  return {
    log: record.origin,
    idx: record.index,
    source_offset: record.sourceOffset,
    ...columns,
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
  if (typeof stored.event_json !== 'string') return 'event_json';
  const parsed = parseEventJson(stored.event_json);
  if (!parsed.ok) return 'event_json';
  const derived = derive(parsed.event);
  for (const column of DERIVED_COLUMNS) {
    if (stored[column] !== derived[column]) return column;
  }
  return undefined;
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
