import { addDays, differenceInCalendarDays, format, isValid, parseISO } from 'date-fns';
import type { AssessmentConclusion } from './case-store.js';

/**
 * The HIPAA breach notification clock (45 CFR 164.404, 164.406, 164.408) of one case, in
 * calendar days from the day the breach was discovered:
 * - individuals: without unreasonable delay and no later than 60 calendar days after discovery;
 * - HHS: 500 or more individuals → contemporaneously with the individual notice (the same
 *   deadline); fewer than 500 → the annual log, due within 60 days after the end of the calendar
 *   year of discovery (1 March, or 29 February when the next year is a leap year);
 * - media: more than 500 residents of one State or jurisdiction → prominent media outlets serving
 *   it, within the same 60 days.
 * The clock reports deadlines; it does not decide whether to notify earlier ("without
 * unreasonable delay" can be sooner). Dates are calendar dates (YYYY-MM-DD) with no time zone.
 */

/** Calendar days after discovery by which individuals (and HHS and media, when due) are notified. */
export const BREACH_NOTICE_DAYS = 60;
/** HHS threshold: "500 or more individuals" (164.408(b)). */
export const HHS_IMMEDIATE_THRESHOLD = 500;
/** Media threshold: "more than 500 residents of a State or jurisdiction" (164.406(a)). */
export const MEDIA_THRESHOLD = 500;

export interface BreachClockInput {
  /** Day 0: the day the breach was discovered (or by reasonable diligence would have been). */
  discoveredOn: string;
  /** Individuals affected; undefined = not yet known. */
  affectedIndividuals?: number;
  /** Residents of the most affected State or jurisdiction; undefined = not known. */
  largestJurisdictionCount?: number;
  /** The risk assessment's conclusion, if one was made. */
  conclusion?: AssessmentConclusion;
  /** The day the clock is read. */
  today: string;
}

/** One deadline as of `today`. */
export interface NoticeDeadline {
  deadline: string;
  /** Calendar days from today to the deadline: 0 on the day itself, negative when past it. */
  daysRemaining: number;
  /** Past the deadline while the clock runs (never for a case assessed as not a breach). */
  overdue: boolean;
}

export type HhsNotice =
  | ({ notice: 'contemporaneous' | 'annual_log' } & NoticeDeadline)
  /** The number of individuals is not known yet. */
  | { notice: 'unknown' };

export type MediaNotice =
  /** `possible`: only the total is known and it exceeds 500; the largest jurisdiction may not. */
  ({ notice: 'required' | 'possible' } & NoticeDeadline) | { notice: 'not_required' | 'unknown' };

export interface BreachClock {
  /**
   * `not_a_breach` when the risk assessment concluded a low probability of compromise: no
   * notification is due, and the deadlines are shown for reference only. Otherwise `running`
   * (an impermissible use is presumed a breach until assessed).
   */
  status: 'running' | 'not_a_breach';
  discoveredOn: string;
  today: string;
  individuals: NoticeDeadline;
  hhs: HhsNotice;
  media: MediaNotice;
}

function calendarDate(value: string, what: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseISO(value) : new Date(Number.NaN);
  if (!isValid(date) || format(date, 'yyyy-MM-dd') !== value) {
    throw new Error(`${what} must be a calendar date YYYY-MM-DD`);
  }
  return date;
}

const ymd = (date: Date): string => format(date, 'yyyy-MM-dd');

/**
 * Reads the breach clock of a case on `today`. Pure. Throws when a date is not a valid
 * YYYY-MM-DD calendar date or a count is negative or not a whole number.
 */
export function breachClock(input: BreachClockInput): BreachClock {
  const discovered = calendarDate(input.discoveredOn, 'discoveredOn');
  const today = calendarDate(input.today, 'today');
  for (const [what, n] of [
    ['affectedIndividuals', input.affectedIndividuals],
    ['largestJurisdictionCount', input.largestJurisdictionCount],
  ] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new Error(`${what} must be a whole number ≥ 0`);
  }
  const status = input.conclusion === 'low_probability_of_compromise' ? 'not_a_breach' : 'running';
  const deadline = (date: Date): NoticeDeadline => {
    const daysRemaining = differenceInCalendarDays(date, today);
    return { deadline: ymd(date), daysRemaining, overdue: status === 'running' && daysRemaining < 0 };
  };
  const individuals = deadline(addDays(discovered, BREACH_NOTICE_DAYS));

  const total = input.affectedIndividuals;
  let hhs: HhsNotice;
  if (total === undefined) hhs = { notice: 'unknown' };
  else if (total >= HHS_IMMEDIATE_THRESHOLD) hhs = { notice: 'contemporaneous', ...individuals };
  else {
    // 60 days after 31 December of the year of discovery.
    const yearEnd = new Date(discovered.getFullYear(), 11, 31);
    hhs = { notice: 'annual_log', ...deadline(addDays(yearEnd, BREACH_NOTICE_DAYS)) };
  }

  let media: MediaNotice;
  const largest = input.largestJurisdictionCount;
  if (largest !== undefined) {
    media = largest > MEDIA_THRESHOLD ? { notice: 'required', ...individuals } : { notice: 'not_required' };
  } else if (total === undefined) media = { notice: 'unknown' };
  // The total bounds every jurisdiction's count: at most 500 in all means at most 500 in each.
  else media = total > MEDIA_THRESHOLD ? { notice: 'possible', ...individuals } : { notice: 'not_required' };

  return { status, discoveredOn: input.discoveredOn, today: input.today, individuals, hhs, media };
}
