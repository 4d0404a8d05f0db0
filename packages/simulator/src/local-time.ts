import { TZDate } from '@date-fns/tz';

/**
 * Local calendar arithmetic in the facility's IANA time zone. A "day" is the number of days
 * since 1970-01-01 of the local calendar date, so days are 23, 24 or 25 hours long around DST.
 */

const DAY_MS = 86_400_000;

/** The instant of local `day` plus `minute` minutes after local midnight (may exceed 1440). */
export function localInstant(timeZone: string, day: number, minute: number): number {
  const date = new Date(day * DAY_MS);
  return new TZDate(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), 0, minute, timeZone).getTime();
}

/**
 * Local-time conversions for one zone, fast: the simulator converts millions of times, and a
 * zone lookup costs microseconds. Local midnights are cached; a day whose midnights are exactly
 * 24 h apart has no DST change, so its times are plain offsets from midnight. Only the two
 * days a year with a change go through the zone database for every conversion.
 */
export interface LocalCalendar {
  readonly timeZone: string;
  /** The instant of local midnight starting `day`. */
  dayStart(day: number): number;
  /** The instant of local `day` plus `minute` minutes of wall-clock time (may exceed 1440). */
  instant(day: number, minute: number): number;
  /** The local day containing `at`. */
  dayOf(at: number): number;
}

/** Creates a calendar for an IANA zone. */
export function createLocalCalendar(timeZone: string): LocalCalendar {
  const starts = new Map<number, number>();
  const dayStart = (day: number): number => {
    let start = starts.get(day);
    if (start === undefined) {
      if (starts.size > 4096) starts.clear();
      start = localInstant(timeZone, day, 0);
      starts.set(day, start);
    }
    return start;
  };
  return {
    timeZone,
    dayStart,
    instant(day, minute) {
      const d = day + Math.floor(minute / 1440);
      const m = minute - (d - day) * 1440;
      const start = dayStart(d);
      return dayStart(d + 1) - start === DAY_MS ? start + m * 60_000 : localInstant(timeZone, d, m);
    },
    dayOf(at) {
      let d = Math.floor(at / DAY_MS);
      while (at < dayStart(d)) d -= 1;
      while (at >= dayStart(d + 1)) d += 1;
      return d;
    },
  };
}

/** 0 = Sunday … 6 = Saturday of a local day number (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isWeekday(day: number): boolean {
  const w = weekdayOf(day);
  return w >= 1 && w <= 5;
}

/** The first weekday at or after `day`. */
export function nextWeekday(day: number): number {
  let d = day;
  while (!isWeekday(d)) d += 1;
  return d;
}
