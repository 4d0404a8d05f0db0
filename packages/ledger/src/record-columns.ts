import { AccessEventSchema, type AccessEvent } from '@phi-audit/schema';
import { sealedEventOf } from './chain-builder.js';
import type { LedgerRecord } from './types.js';

/**
 * The query columns both stores keep beside a record (tenant, patient, user, time, …): they
 * are denormalised copies of fields of `eventJson`, which is the hashed truth, so a store
 * derives them here when it appends and compares them here when it scans, to catch tampering
 * with a column. Pure; the column names are the stores' shared `access_log` naming.
 */

/** The query columns of a record, in the order `findRecordColumnMismatch` compares them. */
export const RECORD_COLUMNS = [
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
] as const;
export type RecordColumn = (typeof RECORD_COLUMNS)[number];

/** The query columns of one event. Absent optional fields are ''. */
export interface RecordColumns {
  event_id: string;
  tenant: string;
  /** Event time, epoch ms. */
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
}

/** The query columns of `event` (absent optional fields are ''). */
export function deriveRecordColumns(event: AccessEvent): RecordColumns {
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
    patient_id: event.patient?.id ?? '',
    action: event.action,
    resource_type: event.resource.type,
    outcome: event.outcome,
  };
}

export type ParsedEventJson = { ok: true; event: AccessEvent } | { ok: false; reason: string };

/**
 * The AccessEvent a stored `event_json` holds, or why it holds none. The reason names field
 * paths only, never values (they may be PHI).
 */
export function parseEventJson(eventJson: unknown): ParsedEventJson {
  if (typeof eventJson !== 'string') return { ok: false, reason: 'event_json is not a string' };
  let value: unknown;
  try {
    value = JSON.parse(eventJson);
  } catch {
    return { ok: false, reason: 'event_json is not JSON' };
  }
  const parsed = AccessEventSchema.safeParse(value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(event)').join(', ');
    return { ok: false, reason: `event_json is not a valid AccessEvent (fields: ${fields})` };
  }
  return { ok: true, event: parsed.data };
}

export type CheckedRecordColumns = { ok: true; columns: RecordColumns } | { ok: false; message: string };

const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Why a record cannot be stored, as a message naming its log and index (never event
 * contents): `record log "<origin>" index <n>: <what>`.
 */
export function invalidRecordMessage(record: LedgerRecord, what: string): string {
  return `record log "${String(record.origin).slice(0, 200)}" index ${String(record.index)}: ${what}`;
}

/**
 * The query columns of a ledger record, derived from `record.eventJson`, after checking the
 * record's own fields: origin a non-empty well-formed string, index and sourceOffset
 * non-negative safe integers, hashes 64 lowercase hex digits, eventJson a valid AccessEvent
 * whose eventId and tenant are the record's. Not ok (with a message for
 * `invalidRecordMessage`'s format) otherwise.
 *
 * `derived`, when given, must be deriveRecordColumns() of the schema-valid event whose
 * canonical JSON is `record.eventJson` (a writer that built eventJson from that event knows
 * them); a record a chain builder made from a sealed event carries that event (sealedEventOf).
 * Either way eventJson is not parsed and validated again.
 */
export function checkRecordColumns(record: LedgerRecord, derived?: RecordColumns): CheckedRecordColumns {
  const bad = (what: string): CheckedRecordColumns => ({ ok: false, message: invalidRecordMessage(record, what) });
  if (typeof record.origin !== 'string' || record.origin.length === 0 || !record.origin.isWellFormed()) {
    return bad('origin must be a non-empty, well-formed string');
  }
  if (!Number.isSafeInteger(record.index) || record.index < 0) return bad('index must be a non-negative safe integer');
  if (!Number.isSafeInteger(record.sourceOffset) || record.sourceOffset < 0) {
    return bad('sourceOffset must be a non-negative safe integer');
  }
  if (typeof record.leafHash !== 'string' || !HASH_HEX.test(record.leafHash)) {
    return bad('leafHash must be 64 lowercase hex digits');
  }
  if (typeof record.chain !== 'string' || !HASH_HEX.test(record.chain)) {
    return bad('chain must be 64 lowercase hex digits');
  }
  if (typeof record.eventJson !== 'string' || !record.eventJson.isWellFormed()) {
    return bad('eventJson must be a well-formed string');
  }
  let columns = derived;
  if (columns === undefined) {
    let event = sealedEventOf(record);
    if (event === undefined) {
      const parsed = parseEventJson(record.eventJson);
      if (!parsed.ok) return bad(parsed.reason);
      event = parsed.event;
    }
    columns = deriveRecordColumns(event);
  }
  if (columns.event_id !== record.eventId) return bad('eventId differs from the event');
  if (columns.tenant !== record.tenant) return bad('tenant differs from the event');
  return { ok: true, columns };
}

/**
 * The first query column whose stored value is not the derived one (strict equality, so a
 * changed type counts), or undefined when all agree. `asStored` maps a derived value to the
 * form the store reads it back in (ClickHouse returns every column as text).
 */
export function findRecordColumnMismatch(
  stored: Readonly<Record<RecordColumn, unknown>>,
  derived: RecordColumns,
  asStored: (value: string | number) => unknown = (value) => value,
): RecordColumn | undefined {
  for (const column of RECORD_COLUMNS) {
    if (stored[column] !== asStored(derived[column])) return column;
  }
  return undefined;
}
