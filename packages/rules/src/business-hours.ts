import { tzOffset } from '@date-fns/tz';
import { z } from 'zod';

/**
 * Working hours are wall-clock ranges per local weekday, evaluated in the tenant's IANA zone.
 * Evaluating the local weekday and minute (rather than adding elapsed time to a midnight) is what
 * keeps DST days right: in the spring-forward gap no wall-clock minute exists, and in the
 * fall-back overlap both instants of 01:30 are 01:30.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * `"HH:MM-HH:MM"`, local wall-clock time. An end at or before the start runs past midnight into
 * the next day (`"23:00-07:00"` is a night shift); `"00:00-24:00"` is the whole day.
 */
export const TimeRangeSchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected "HH:MM-HH:MM", e.g. "08:00-18:00"')
  .transform((text) => {
    const [start = '', end = ''] = text.split('-');
    const startMinute = minuteOf(start);
    const endMinute = minuteOf(end);
    return { startMinute, endMinute, crossesMidnight: endMinute <= startMinute } as const;
  });
export type TimeRange = z.infer<typeof TimeRangeSchema>;

function minuteOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

const dayRanges = z.array(TimeRangeSchema).prefault([]);

/** Ranges per local weekday; a missing day has none. A range belongs to the day it starts on. */
export const WeeklyHoursSchema = z.strictObject({
  mon: dayRanges,
  tue: dayRanges,
  wed: dayRanges,
  thu: dayRanges,
  fri: dayRanges,
  sat: dayRanges,
  sun: dayRanges,
});
export type WeeklyHours = z.infer<typeof WeeklyHoursSchema>;
export type WeeklyHoursInput = z.input<typeof WeeklyHoursSchema>;

/** Options of {@link isWithinWorkingHours}. */
export interface WorkingHoursOptions {
  /** IANA zone of the tenant's wall clock. */
  timeZone: string;
  /** The facility's business hours. */
  hours: WeeklyHours;
  /**
   * The user's shift, if they have one. A shift widens the hours a user may work (a night nurse
   * at 02:00 is at work) and never narrows them: business hours stay working hours for everyone.
   */
  shift?: WeeklyHours | undefined;
}

// Zone offsets change only at multiples of 15 minutes UTC (every offset and every DST rule of
// the tz database since 1970 is a multiple of 15 minutes), so one offset per 15-minute bucket is
// exact. Caching it matters: a zone lookup through Intl costs microseconds, the engine's budget
// per event is ten.
const BUCKET_MS = 15 * 60_000;
const MAX_BUCKETS_PER_ZONE = 100_000;
const offsetCache = new Map<string, Map<number, number>>();

function offsetMinutes(epochMs: number, timeZone: string): number {
  let zone = offsetCache.get(timeZone);
  if (zone === undefined) {
    zone = new Map();
    offsetCache.set(timeZone, zone);
  }
  const bucket = Math.floor(epochMs / BUCKET_MS);
  let offset = zone.get(bucket);
  if (offset === undefined) {
    if (zone.size >= MAX_BUCKETS_PER_ZONE) zone.clear();
    offset = tzOffset(timeZone, new Date(bucket * BUCKET_MS));
    zone.set(bucket, offset);
  }
  return offset;
}

const DAY_MS = 86_400_000;

/** The local weekday (0 = Sunday) and minute after local midnight of an instant. */
export function localWeekMinute(epochMs: number, timeZone: string): { weekday: number; minute: number } {
  const local = epochMs + offsetMinutes(epochMs, timeZone) * 60_000;
  const day = Math.floor(local / DAY_MS);
  // 1970-01-01 was a Thursday (4).
  return { weekday: (((day + 4) % 7) + 7) % 7, minute: Math.floor((local - day * DAY_MS) / 60_000) };
}

/**
 * True when `epochMs` falls in the business hours or the user's shift, in the tenant's zone.
 * Ranges that cross midnight count from the day they start on, so Friday's `23:00-07:00` covers
 * Saturday 02:00.
 */
export function isWithinWorkingHours(epochMs: number, options: WorkingHoursOptions): boolean {
  const { weekday, minute } = localWeekMinute(epochMs, options.timeZone);
  return (
    coversLocal(options.hours, weekday, minute) ||
    (options.shift !== undefined && coversLocal(options.shift, weekday, minute))
  );
}

/** Whether `hours` cover local `minute` of local `weekday` (0 = Sunday). */
export function coversLocal(hours: WeeklyHours, weekday: number, minute: number): boolean {
  const today = hours[WEEKDAYS[weekday % 7] ?? 'sun'];
  for (const r of today) {
    if (r.crossesMidnight ? minute >= r.startMinute : minute >= r.startMinute && minute < r.endMinute) return true;
  }
  const yesterday = hours[WEEKDAYS[(weekday + 6) % 7] ?? 'sun'];
  for (const r of yesterday) {
    if (r.crossesMidnight && minute < r.endMinute) return true;
  }
  return false;
}
