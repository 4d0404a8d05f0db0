import { CodedError } from '@phi-audit/schema';
import type { z } from 'zod';
import { CaseEventSchema, compareCaseEvents, type CaseEvent } from './case-store.js';
import { checkText, storedJson } from './detection-rows.js';

/**
 * The mapping between case events (case-store.ts) and their stored rows, shared by store-sqlite
 * and store-clickhouse: the checks on the way in (STORE_INVALID_VALUE), the append rules
 * (STORE_CASE_EXISTS, STORE_UNKNOWN_CASE) and the check on the way out (STORE_CORRUPT_DATA: a
 * stored row that does not parse, or disagrees with its columns, fails the read). Pure.
 * Messages name positions and fields, never titles, notes or reasons (PHI-adjacent free text).
 */

/** The codes of {@link CaseRowError}; both stores surface them unchanged as their own errors. */
export type CaseRowErrorCode =
  'STORE_INVALID_VALUE' | 'STORE_CORRUPT_DATA' | 'STORE_UNKNOWN_CASE' | 'STORE_CASE_EXISTS';

/** Thrown by the case row mapping and append rules. */
export class CaseRowError extends CodedError<CaseRowErrorCode> {
  override readonly name = 'CaseRowError';
}

/**
 * One stored case event: the columns both stores filter and order by, and `body`, the canonical
 * JSON of the whole event (the record; the columns are copies of its fields).
 */
export interface CaseEventRow {
  tenant: string;
  case_id: string;
  event_id: string;
  at: number;
  by: string;
  kind: string;
  body: string;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
}

function corrupt(message: string, cause?: unknown): CaseRowError {
  return new CaseRowError(
    'STORE_CORRUPT_DATA',
    `${message}: the stored case data was altered outside phi-audit`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Validates the events handed to appendCaseEvents with CaseEventSchema, plus what storage needs
 * (tenant and by at most 256 characters, no lone surrogates anywhere), and returns their rows in
 * call order. Throws STORE_INVALID_VALUE naming the event's position and the field, never a value.
 */
export function caseEventRows(events: unknown): CaseEventRow[] {
  if (!Array.isArray(events)) throw new CaseRowError('STORE_INVALID_VALUE', 'case events must be an array');
  return events.map((e: unknown, i): CaseEventRow => {
    const parsed = CaseEventSchema.safeParse(e, { reportInput: false });
    if (!parsed.success) {
      throw new CaseRowError('STORE_INVALID_VALUE', `case event ${i} is invalid: ${issues(parsed.error)}`, {
        cause: parsed.error,
      });
    }
    const v = parsed.data;
    let body: string;
    try {
      checkText('tenant', v.tenant);
      checkText('by', v.by);
      body = storedJson(`case event ${i}`, v);
    } catch (err) {
      throw new CaseRowError('STORE_INVALID_VALUE', `case event ${i} is invalid: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { tenant: v.tenant, case_id: v.caseId, event_id: v.eventId, at: v.at, by: v.by, kind: v.kind, body };
  });
}

/** What a store knows of the cases and events already stored, as the append rules ask it. */
export interface StoredCaseKeys {
  /** True when the tenant has a stored event with this eventId. */
  hasEvent(tenant: string, eventId: string): boolean;
  /** True when the tenant has any stored event of this caseId. */
  hasCase(tenant: string, caseId: string): boolean;
  /** True when the tenant has a stored `opened` event of this caseId. */
  isOpened(tenant: string, caseId: string): boolean;
}

/**
 * Applies the append rules of CaseStore to checked rows, in call order, against what is stored:
 * an eventId stored or repeated in the call, or an `opened` caseId already used, is
 * STORE_CASE_EXISTS; any other event must name a case opened before (stored, or earlier in the
 * call), else STORE_UNKNOWN_CASE. Messages name the position and say nothing was stored (the
 * store throws before writing).
 */
export function checkCaseAppend(rows: readonly CaseEventRow[], stored: StoredCaseKeys): void {
  const events = new Set<string>();
  const opened = new Set<string>();
  // JSON keys: a tenant may contain any character, so no separator is safe.
  const key = (tenant: string, id: string) => JSON.stringify([tenant, id]);
  rows.forEach((r, i) => {
    const eventKey = key(r.tenant, r.event_id);
    if (events.has(eventKey) || stored.hasEvent(r.tenant, r.event_id)) {
      throw new CaseRowError(
        'STORE_CASE_EXISTS',
        `case event ${i}: eventId is already used by its tenant; no event of the call was stored`,
      );
    }
    events.add(eventKey);
    const caseKey = key(r.tenant, r.case_id);
    if (r.kind === 'opened') {
      if (opened.has(caseKey) || stored.hasCase(r.tenant, r.case_id)) {
        throw new CaseRowError(
          'STORE_CASE_EXISTS',
          `case event ${i}: opens a caseId its tenant already uses; no event of the call was stored`,
        );
      }
      opened.add(caseKey);
    } else if (!opened.has(caseKey) && !stored.isOpened(r.tenant, r.case_id)) {
      throw new CaseRowError(
        'STORE_UNKNOWN_CASE',
        `case event ${i}: names no case opened for its tenant; no event of the call was stored`,
      );
    }
  });
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    throw corrupt('a stored case event is not JSON', err);
  }
}

/**
 * A stored row back to its CaseEvent: the body must parse with CaseEventSchema and agree with
 * the row's columns. Throws STORE_CORRUPT_DATA otherwise (never skipped: a case file with a
 * silently missing event would misstate who did what).
 */
export function caseEventFromRow(row: Readonly<Record<keyof CaseEventRow, string | number>>): CaseEvent {
  const parsed = CaseEventSchema.safeParse(parseBody(String(row.body)), { reportInput: false });
  if (!parsed.success) throw corrupt('a stored case event fails validation', parsed.error);
  const e = parsed.data;
  const columns: [keyof CaseEventRow, string | number][] = [
    ['tenant', e.tenant],
    ['case_id', e.caseId],
    ['event_id', e.eventId],
    ['at', e.at],
    ['by', e.by],
    ['kind', e.kind],
  ];
  for (const [column, value] of columns) {
    if (String(row[column]) !== String(value)) {
      throw corrupt(`the stored ${column} column of a case event disagrees with the event`);
    }
  }
  return e;
}

/**
 * Stored rows back to events in compareCaseEvents order, with one copy of each eventId:
 * identical rows (a retried insert) collapse; two different rows with one eventId can only be
 * tampering (STORE_CORRUPT_DATA).
 */
export function caseEventsFromRows(
  rows: readonly Readonly<Record<keyof CaseEventRow, string | number>>[],
): CaseEvent[] {
  const seen = new Map<string, string>();
  const out: CaseEvent[] = [];
  for (const row of rows) {
    const event = caseEventFromRow(row);
    const id = JSON.stringify([event.tenant, event.eventId]);
    const body = String(row.body);
    const earlier = seen.get(id);
    if (earlier === undefined) {
      seen.set(id, body);
      out.push(event);
    } else if (earlier !== body) {
      throw corrupt('two stored case events share one eventId');
    }
  }
  // The SQL orders alike; sorting here keeps the order independent of the engine's collation.
  return out.sort(compareCaseEvents);
}
