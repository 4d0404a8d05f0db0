import { TZDate } from '@date-fns/tz';
import type { CellType } from './csv-fields.js';

/**
 * Converts one CSV cell to the JSON value its record field wants. Messages describe what is
 * wrong and never quote the cell: reference data is PHI.
 */

export type CellResult = { ok: true; value: string | number | boolean } | { ok: false; message: string };

const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH_MS = /^\d{1,16}$/;

/** Year, month (1-12) and day of a real calendar date, or undefined. */
function calendarDate(y: string, m: string, d: string): [number, number, number] | undefined {
  const [year, month, day] = [Number(y), Number(m), Number(d)];
  const t = new Date(Date.UTC(year, month - 1, day));
  return t.getUTCFullYear() === year && t.getUTCMonth() === month - 1 && t.getUTCDate() === day
    ? [year, month, day]
    : undefined;
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone }).format(0);
    return true;
  } catch {
    return false;
  }
}

function parseBoolean(cell: string): CellResult {
  const v = cell.toLowerCase();
  if (TRUE.has(v)) return { ok: true, value: true };
  if (FALSE.has(v)) return { ok: true, value: false };
  return { ok: false, message: 'is not a yes/no value (use true/false, yes/no, y/n or 1/0)' };
}

function parseDate(cell: string): CellResult {
  const m = DATE.exec(cell);
  if (m === null || calendarDate(m[1]!, m[2]!, m[3]!) === undefined) {
    return { ok: false, message: 'is not a calendar date YYYY-MM-DD' };
  }
  return { ok: true, value: cell };
}

const INSTANT_FORMS =
  'use ISO-8601 with a zone (2025-03-04T09:30:00-05:00 or …Z), epoch milliseconds, or a date YYYY-MM-DD with --time-zone';

function parseInstant(cell: string, timeZone: string | undefined): CellResult {
  if (EPOCH_MS.test(cell)) {
    const ms = Number(cell);
    return Number.isSafeInteger(ms) ? { ok: true, value: ms } : { ok: false, message: 'is too large for epoch ms' };
  }
  const dateOnly = DATE.exec(cell);
  if (dateOnly !== null) {
    const ymd = calendarDate(dateOnly[1]!, dateOnly[2]!, dateOnly[3]!);
    if (ymd === undefined) return { ok: false, message: 'is not a real calendar date' };
    if (timeZone === undefined) {
      return { ok: false, message: 'is a date without a time: pass --time-zone to read it as local midnight' };
    }
    return { ok: true, value: new TZDate(ymd[0], ymd[1] - 1, ymd[2], 0, 0, 0, 0, timeZone).getTime() };
  }
  const m = DATE_TIME.exec(cell);
  if (m === null) return { ok: false, message: `is not a time: ${INSTANT_FORMS}` };
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = m;
  if (zone === undefined) {
    return { ok: false, message: 'has a time but no zone: add Z or an offset such as -05:00' };
  }
  if (calendarDate(y!, mo!, d!) === undefined || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return { ok: false, message: 'is not a real date and time' };
  }
  const offset =
    zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 3 ? `${zone}:00` : zone.replace(/^(.\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${fraction.padEnd(3, '0').slice(0, 3)}${offset}`);
  if (!Number.isFinite(ms) || ms < 0) return { ok: false, message: 'is not a time after 1970' };
  return { ok: true, value: ms };
}

/**
 * The value of a non-empty, trimmed `cell` for a field of `type`. Instants take ISO-8601 with a
 * zone, epoch milliseconds, or a date meaning local midnight in `timeZone`.
 */
export function convertCell(cell: string, type: CellType, timeZone: string | undefined): CellResult {
  switch (type) {
    case 'string':
      return { ok: true, value: cell };
    case 'boolean':
      return parseBoolean(cell);
    case 'date':
      return parseDate(cell);
    case 'instant':
      return parseInstant(cell, timeZone);
    default:
      return type satisfies never;
  }
}
