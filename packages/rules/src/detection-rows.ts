import { CodedError } from '@phi-audit/schema';
import { canonicalJson } from '@phi-audit/ledger';
import { alertId, AlertSchema, SEVERITIES, type Alert, type Severity } from './alert.js';
import {
  REFERENCE_KINDS,
  REFERENCE_RECORD_SCHEMAS,
  referenceKey,
  type AlertQuery,
  type ReferenceKind,
  type ReferenceRecord,
} from './detection-store.js';
import { parseReferenceData, type ReferenceData } from './reference-data.js';
import { z } from 'zod';

/** The codes of {@link DetectionRowError}; both stores surface them unchanged. */
export type DetectionRowErrorCode = 'STORE_INVALID_VALUE' | 'STORE_CORRUPT_DATA' | 'STORE_DUPLICATE_REFERENCE_KEY';

/** Thrown by the row mapping shared by both stores' detection tables. */
export class DetectionRowError extends CodedError<DetectionRowErrorCode> {
  override readonly name = 'DetectionRowError';
}

/**
 * The mapping between the detection values (reference loads, alerts, alert queries) and their
 * rows, with the checks on the way in (STORE_INVALID_VALUE, STORE_DUPLICATE_REFERENCE_KEY) and
 * on the way out (STORE_CORRUPT_DATA: a stored row was tampered with; reads fail loudly rather
 * than feed the detector or the console bad data). Pure. Messages name fields, indexes and
 * codes, never record contents (names, addresses and patient ids are PHI). Shared by
 * store-sqlite and store-clickhouse.
 */

/** Largest page alerts(query) returns, and its default. */
export const MAX_ALERT_QUERY_LIMIT = 10_000;
export const DEFAULT_ALERT_QUERY_LIMIT = 1_000;

/** low 0 … critical 3: the stored `severity_rank`, so minSeverity is a range filter. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

function invalid(message: string, cause?: unknown): DetectionRowError {
  return new DetectionRowError('STORE_INVALID_VALUE', message, cause === undefined ? undefined : { cause });
}

function corrupt(message: string, cause?: unknown): DetectionRowError {
  return new DetectionRowError(
    'STORE_CORRUPT_DATA',
    `${message}: the stored detection data was altered outside phi-audit`,
    cause === undefined ? undefined : { cause },
  );
}

const text = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} must be at most 256 characters`)
    .refine((s) => s.isWellFormed(), `${what} contains an unpaired UTF-16 surrogate`);
const day = (what: string) => z.string().regex(/^\d{4}-\d{2}-\d{2}$/, `${what} must be YYYY-MM-DD`);

/** Throws STORE_INVALID_VALUE unless `value` is a well-formed, non-empty string of at most 256 characters. */
export function checkText(what: string, value: unknown): string {
  const parsed = text(what).safeParse(value);
  if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? `${what} is invalid`);
  return parsed.data;
}

/** Throws STORE_INVALID_VALUE unless `value` is a non-negative safe integer. */
export function checkCount(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative safe integer`);
  }
  return value;
}

const AlertQuerySchema = z.strictObject({
  tenant: text('tenant'),
  fromDay: day('fromDay').optional(),
  toDay: day('toDay').optional(),
  ruleId: text('ruleId').optional(),
  userId: text('userId').optional(),
  patientId: text('patientId').optional(),
  minSeverity: z.enum(SEVERITIES).optional(),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_ALERT_QUERY_LIMIT, `limit must be at most ${MAX_ALERT_QUERY_LIMIT}`)
    .default(DEFAULT_ALERT_QUERY_LIMIT),
});
export type CheckedAlertQuery = z.infer<typeof AlertQuerySchema>;

/** Validates an alert query (the default limit filled in). Throws STORE_INVALID_VALUE naming the bad fields. */
export function parseAlertQuery(query: AlertQuery): CheckedAlertQuery {
  const parsed = AlertQuerySchema.safeParse(query, { reportInput: false });
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ');
  throw invalid(`invalid alert query: ${detail}`, parsed.error);
}

/** canonicalJson of a value about to be stored; STORE_INVALID_VALUE for one JSON cannot carry exactly (a lone surrogate). */
export function storedJson(what: string, value: unknown): string {
  try {
    return canonicalJson(value);
  } catch (err) {
    throw invalid(`${what} cannot be stored faithfully (unpaired UTF-16 surrogate?)`, err);
  }
}

/** One record of a load as stored: its referenceKey and canonical JSON. */
export interface ReferenceRecordRow {
  key: string;
  json: string;
}

/** A load checked and ready to store. */
export interface CheckedReferenceLoad {
  tenant: string;
  kind: ReferenceKind;
  rows: ReferenceRecordRow[];
  source: string;
  loadedAt: number;
}

/**
 * Checks a putReference call: tenant, kind, every record against its kind's schema (the parsed
 * record, defaults filled in, is what is stored), the source and time. Throws
 * STORE_INVALID_VALUE, or STORE_DUPLICATE_REFERENCE_KEY when two records share a key.
 */
export function checkReferenceLoad(
  tenant: unknown,
  kind: unknown,
  records: unknown,
  meta: unknown,
): CheckedReferenceLoad {
  const t = checkText('tenant', tenant);
  if (!REFERENCE_KINDS.includes(kind as ReferenceKind)) {
    throw invalid(`kind must be one of ${REFERENCE_KINDS.join(', ')}`);
  }
  const k = kind as ReferenceKind;
  if (!Array.isArray(records)) throw invalid('records must be an array');
  if (typeof meta !== 'object' || meta === null) throw invalid('meta must be an object');
  const { source, loadedAt } = meta as { source?: unknown; loadedAt?: unknown };
  const schema = REFERENCE_RECORD_SCHEMAS[k];
  const firstIndexOfKey = new Map<string, number>();
  const rows = records.map((record: unknown, i): ReferenceRecordRow => {
    const parsed = schema.safeParse(record, { reportInput: false });
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
      throw invalid(`${k} record ${i} is invalid: ${detail.join('; ')}`, parsed.error);
    }
    const key = referenceKey(k, parsed.data);
    const first = firstIndexOfKey.get(key);
    if (first !== undefined) {
      throw new DetectionRowError(
        'STORE_DUPLICATE_REFERENCE_KEY',
        `${k} records ${first} and ${i} have the same key (a load may hold each record once); nothing was stored`,
      );
    }
    firstIndexOfKey.set(key, i);
    return { key, json: storedJson(`${k} record ${i}`, parsed.data) };
  });
  return { tenant: t, kind: k, rows, source: checkText('source', source), loadedAt: checkCount('loadedAt', loadedAt) };
}

/** A stored reference record as read back. */
export interface StoredReferenceRecord {
  kind: string;
  record_key: string;
  record_json: string;
}

/**
 * Assembles stored records (at most one per kind and key) into reference data, validated with
 * parseReferenceData; each record must still have the key it is stored under. Throws
 * STORE_CORRUPT_DATA otherwise.
 */
export function referenceDataFromRows(rows: readonly StoredReferenceRecord[]): ReferenceData {
  const raw: Record<ReferenceKind, unknown[]> = { patients: [], workforce: [], relationships: [] };
  const keys: Record<ReferenceKind, string[]> = { patients: [], workforce: [], relationships: [] };
  for (const row of rows) {
    if (!REFERENCE_KINDS.includes(row.kind as ReferenceKind)) throw corrupt('a reference record has an unknown kind');
    const kind = row.kind as ReferenceKind;
    raw[kind].push(parseJson(row.record_json, `a stored ${kind} record`));
    keys[kind].push(row.record_key);
  }
  let data: ReferenceData;
  try {
    data = parseReferenceData(raw);
  } catch (err) {
    throw corrupt('stored reference data fails validation', err);
  }
  for (const kind of REFERENCE_KINDS) {
    const records: readonly ReferenceRecord[] = data[kind];
    records.forEach((record, i) => {
      if (referenceKey(kind, record) !== keys[kind][i]) {
        throw corrupt(`a stored ${kind} record does not match the key it is stored under`);
      }
    });
  }
  return data;
}

function parseJson(json: string, what: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch (err) {
    throw corrupt(`${what} is not JSON`, err);
  }
}

/** The kind of a stored load row; STORE_CORRUPT_DATA unless it is a reference kind. */
export function storedReferenceKind(kind: string): ReferenceKind {
  if (!REFERENCE_KINDS.includes(kind as ReferenceKind)) throw corrupt('a reference load has an unknown kind');
  return kind as ReferenceKind;
}

function keyMatches(a: Alert): boolean {
  return (
    alertId({ tenant: a.tenant, ruleId: a.ruleId, userId: a.userId, patientId: a.patientId, day: a.day }) === a.alertId
  );
}

/**
 * Checks alerts handed to upsertAlerts: each must pass AlertSchema and carry the alertId of its
 * own (tenant, rule, user, patient, day), which the stores rely on (those fields never change
 * under an id). Throws STORE_INVALID_VALUE naming the alert's position.
 */
export function checkAlerts(alerts: unknown): Alert[] {
  if (!Array.isArray(alerts)) throw invalid('alerts must be an array');
  return alerts.map((alert: unknown, i) => {
    const parsed = AlertSchema.safeParse(alert, { reportInput: false });
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(alert)'}: ${issue.message}`);
      throw invalid(`alert ${i} is invalid: ${detail.join('; ')}`, parsed.error);
    }
    if (!keyMatches(parsed.data)) {
      throw invalid(`alert ${i}: alertId is not alertId() of its tenant, rule, user, patient and day`);
    }
    storedJson(`alert ${i}`, parsed.data);
    return parsed.data;
  });
}

/**
 * A stored alert's JSON back to an Alert: AlertSchema, its own key's id, and the tenant and id
 * of the row it was read from. Throws STORE_CORRUPT_DATA otherwise.
 */
export function alertFromJson(json: string, expected: { tenant: string; alertId: string }): Alert {
  const parsed = AlertSchema.safeParse(parseJson(json, 'a stored alert'), { reportInput: false });
  if (!parsed.success) throw corrupt('a stored alert fails validation', parsed.error);
  const a = parsed.data;
  if (a.tenant !== expected.tenant || a.alertId !== expected.alertId || !keyMatches(a)) {
    throw corrupt('a stored alert does not match the tenant and id it is stored under');
  }
  return a;
}

/** The filter and order columns of an alert, copied from its fields. */
export interface AlertColumns {
  day: string;
  rule_id: string;
  user_id: string;
  patient_id: string;
  severity_rank: number;
  risk_score: number;
}

/** An alert's filter columns ('' for an absent patient). */
export function alertColumns(a: Alert): AlertColumns {
  return {
    day: a.day,
    rule_id: a.ruleId,
    user_id: a.userId,
    patient_id: a.patientId ?? '',
    severity_rank: severityRank(a.severity),
    risk_score: a.riskScore,
  };
}

/**
 * Throws STORE_CORRUPT_DATA when the columns a list was filtered and ordered by disagree with
 * the alert returned: a tampered column would otherwise hide an alert from, or slip one into,
 * a filtered list.
 */
export function assertColumnsMatch(a: Alert, stored: Readonly<Record<keyof AlertColumns, string | number>>): void {
  const expected = alertColumns(a);
  for (const column of Object.keys(expected) as (keyof AlertColumns)[]) {
    if (String(expected[column]) !== String(stored[column])) {
      throw corrupt(`the stored ${column} column of an alert disagrees with the alert`);
    }
  }
}
