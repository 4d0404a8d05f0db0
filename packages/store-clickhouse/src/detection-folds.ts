import {
  mergeAlert,
  type Alert,
  alertFromJson,
  assertColumnsMatch,
  type StoredReferenceRecord,
} from '@phi-audit/rules';
import type { ALERT_READ_COLUMNS } from './detection-statements.js';
import { StoreError } from './errors.js';

/**
 * How the detection store turns ClickHouse rows into one value each. ClickHouse may hold several
 * rows for one alert (states not merged yet, a racing writer) or, after a retried insert, for one
 * reference record: alerts are folded with mergeAlert, identical reference rows collapse, and
 * every row is validated on the way (STORE_CORRUPT_DATA).
 */

/** A stored alert row as read (JSONEachRow: UInt64 quoted). */
export type AlertRowText = Record<
  Exclude<(typeof ALERT_READ_COLUMNS)[number], 'severity_rank' | 'risk_score'>,
  string
> & { severity_rank: number; risk_score: number; tenant?: string };

/** The fold of every stored row of one alert id. */
export interface StoredAlert {
  alert: Alert;
  revision: number;
}

/** Validates one stored row (its JSON, and its columns against it) and folds it into `into`. */
export function foldRow(into: Map<string, StoredAlert>, tenant: string, row: AlertRowText): void {
  const alert = alertFromJson(row.alert_json, { tenant, alertId: row.alert_id });
  assertColumnsMatch(alert, row);
  const revision = Number(row.revision);
  const before = into.get(row.alert_id);
  into.set(
    row.alert_id,
    before === undefined
      ? { alert, revision }
      : { alert: mergeAlert(before.alert, alert), revision: Math.max(before.revision, revision) },
  );
}

/**
 * The rows of selectReferenceRecordsAsOf (sorted by kind, key, JSON) with identical copies of a
 * record collapsed; two different records under one key and version throw STORE_CORRUPT_DATA.
 */
export function oneRowPerKey(rows: readonly StoredReferenceRecord[]): StoredReferenceRecord[] {
  const out: StoredReferenceRecord[] = [];
  for (const row of rows) {
    const prev = out.at(-1);
    if (prev !== undefined && prev.kind === row.kind && prev.record_key === row.record_key) {
      if (prev.record_json === row.record_json) continue;
      throw new StoreError(
        'STORE_CORRUPT_DATA',
        `two different ${prev.kind} records are stored under one key and version: the stored detection data was altered outside phi-audit, or two loads raced`,
      );
    }
    out.push(row);
  }
  return out;
}

/** The list order: day descending, then risk descending, then alertId (byte order = code unit order for hex). */
export function compareForList(a: Alert, b: Alert): number {
  if (a.day !== b.day) return a.day < b.day ? 1 : -1;
  if (a.riskScore !== b.riskScore) return b.riskScore - a.riskScore;
  return a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0;
}
