import { TZDate } from '@date-fns/tz';
import type { AccessEvent } from '@phi-audit/schema';
import { addDays, startOfDay } from 'date-fns';
import type { Evidence } from './alert.js';

/**
 * Per-tenant detection state, windowed by EVENT time (`occurredAt`) with allowed lateness.
 *
 * Memory is bounded by active users × window length, never by the number of events:
 * - the watermark is (max event time seen − lateness); a window, day or (user, patient) pair
 *   whose time range ends before it can receive no more on-time events and is evicted;
 * - an event older than the watermark is reported as late and does not touch the state
 *   (its window may be gone already; recreating it would count it wrongly);
 * - distinct patients are counted exactly with a set per window, but a set stops growing at
 *   `distinctCap`. A rule only needs to know "more than threshold", so threshold + 1 entries
 *   decide it, and one account reading 100,000 charts costs `distinctCap` entries, not 100,000.
 *   Once saturated the count reads as `distinctCap` and `windowSaturated` is set.
 *
 * Eviction sweeps every user once per hop of event time: O(active users) amortised over all
 * events of that hop, instead of work on every event.
 */

export interface WindowSettings {
  /** Length of the bulk-read window (distinct patients per user). */
  readonly windowMs: number;
  /** Overlapping windows per event: 1 = tumbling; 2 = windows every windowMs/2, so any burst within windowMs/2 falls into one window. */
  readonly hops: number;
  /** How far behind the newest event time an event may arrive and still be counted. */
  readonly latenessMs: number;
  /** Per-window cap of the distinct-patient set (bulk-read threshold + 1 suffices). */
  readonly distinctCap: number;
  /** Per-day cap of the distinct-patient set (for peer deviation; above any plausible threshold). */
  readonly dailyCap: number;
  /** A previous access of the same patient by the same user counts as recent within this span. */
  readonly pairWindowMs: number;
  /** Most (user, patient) pairs remembered per user; beyond it new pairs are not tracked. */
  readonly pairCap: number;
  /**
   * Evidence kept per user and day for day-level rules: the earliest this many patient events
   * by (occurredAt, source, eventId). Absent = DEFAULT_DAY_EVIDENCE_CAP.
   */
  readonly dayEvidenceCap?: number;
}

/** Evidence entries kept per user and day when the settings name none. */
export const DEFAULT_DAY_EVIDENCE_CAP = 10;

/** A local calendar day in one time zone: [startMs, endMs), 23 to 25 hours across DST changes. */
export interface LocalDay {
  readonly key: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Maps event times to local days. Caches the last day, so a stream costs one lookup per day change. */
export interface DayClock {
  readonly timeZone: string;
  dayOf(ms: number): LocalDay;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** A DayClock for an IANA time zone (date-fns with @date-fns/tz, so DST days have their real length). */
export function createDayClock(timeZone: string): DayClock {
  let last: LocalDay = { key: '', startMs: 0, endMs: 0 };
  return {
    timeZone,
    dayOf(ms) {
      if (ms >= last.startMs && ms < last.endMs) return last;
      const start = startOfDay(new TZDate(ms, timeZone));
      const end = addDays(start, 1);
      last = {
        key: `${start.getFullYear()}-${pad2(start.getMonth() + 1)}-${pad2(start.getDate())}`,
        startMs: start.getTime(),
        endMs: end.getTime(),
      };
      return last;
    },
  };
}

/**
 * What the state knows about one event's user and patient after recording it. The engine
 * receives the same object for every event (no per-event allocation): read it, do not keep it.
 */
export interface Observation {
  /** Older than the watermark: not recorded, and every count below is 0. */
  late: boolean;
  /** The event's local day in the tenant's zone. */
  day: LocalDay;
  /** Distinct patients of this user in the fullest window containing this event (at most distinctCap). */
  windowDistinct: number;
  windowSaturated: boolean;
  /** Distinct patients of this user on this local day (at most dailyCap). */
  dayDistinct: number;
  daySaturated: boolean;
  /** Event time of the latest earlier-recorded access of this patient by this user, or -1. */
  pairPreviousAt: number;
  /** Accesses of this patient by this user since the pair was last idle for pairWindowMs, this one included. */
  pairCount: number;
}

export interface WindowStats {
  users: number;
  windows: number;
  windowEntries: number;
  days: number;
  dayEntries: number;
  pairs: number;
  lateEvents: number;
  /** Max event time seen − lateness; -Infinity before the first event. */
  watermark: number;
}

interface DayBucket {
  day: LocalDay;
  patients: Set<string>;
  /** Patient events recorded this day (not capped). */
  events: number;
  firstAt: number;
  lastAt: number;
  /** Sorted by (occurredAt, source, eventId), at most dayEvidenceCap. */
  evidence: Evidence[];
}

/** One user's final tally of a closed local day. */
export interface DayTally {
  readonly userId: string;
  /** Distinct patients that day (at most dailyCap). */
  readonly distinctPatients: number;
  readonly saturated: boolean;
  /** Events with a patient recorded that day. */
  readonly events: number;
  readonly firstEventAt: number;
  readonly lastEventAt: number;
  /** The day's earliest patient events, at most dayEvidenceCap. */
  readonly evidence: readonly Evidence[];
}

/**
 * A local day no on-time event can reach any more (watermark ≥ its end), with the tally of every
 * user who opened at least one patient record that day, sorted by user id.
 */
export interface ClosedDay {
  readonly day: LocalDay;
  readonly users: readonly DayTally[];
}

interface PairState {
  lastAt: number;
  count: number;
}

interface UserState {
  windows: Map<number, Set<string>>;
  days: Map<string, DayBucket>;
  pairs: Map<string, PairState>;
}

export interface WindowState {
  /** Records the event (unless late) and describes its user's and patient's windows. */
  observe(event: AccessEvent): Observation;
  /** Max event time seen − lateness: events before it are late, ranges ending before it are evicted. */
  watermark(): number;
  /**
   * Days closed since the last call, oldest first. A day closes once, when the watermark passes
   * its end (at the sweep that evicts it), so the same events always close the same days with
   * the same tallies, whatever the arrival order within the lateness.
   */
  takeClosedDays(): readonly ClosedDay[];
  /**
   * End of input: closes every open day now and moves the watermark past them, so any later
   * event of those days is late rather than reopening them. Returns the days closed since the
   * last takeClosedDays, these included.
   */
  closeAllDays(): readonly ClosedDay[];
  /**
   * The open days that ended at or before `cutoff`, as they stand now (oldest first), without
   * closing or evicting anything: for evaluating a quiet stream's finished days by wall clock
   * before event time moves past them. The real close later reports them again.
   */
  endedDays(cutoff: number): readonly ClosedDay[];
  stats(): WindowStats;
}

const NO_CLOSED_DAYS: readonly ClosedDay[] = Object.freeze([]);

function compareEvidence(a: Evidence, b: Evidence): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.eventId !== b.eventId) return a.eventId < b.eventId ? -1 : 1;
  return 0;
}

/**
 * Keeps `list` the `cap` earliest evidence entries, sorted. Events mostly arrive in time order,
 * so once full a new event usually compares greater than the last entry and costs one comparison.
 */
function keepEarliest(list: Evidence[], event: AccessEvent, cap: number): void {
  if (cap === 0) return;
  const last = list[list.length - 1];
  if (list.length >= cap && last !== undefined) {
    if (event.occurredAt > last.occurredAt) return;
  }
  const e: Evidence = { source: event.source.system, eventId: event.eventId, occurredAt: event.occurredAt };
  let i = list.length;
  while (i > 0 && compareEvidence(list[i - 1]!, e) > 0) i--;
  if (i > 0 && compareEvidence(list[i - 1]!, e) === 0) return;
  if (i >= cap) return;
  list.splice(i, 0, e);
  if (list.length > cap) list.length = cap;
}

/** Creates the windowed state of one tenant. Settings are validated here, once. */
export function createWindowState({
  settings,
  dayClock,
}: {
  settings: WindowSettings;
  dayClock: DayClock;
}): WindowState {
  const { windowMs, hops, latenessMs, distinctCap, dailyCap, pairWindowMs, pairCap } = settings;
  const dayEvidenceCap = settings.dayEvidenceCap ?? DEFAULT_DAY_EVIDENCE_CAP;
  for (const [name, v] of Object.entries(settings)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new RangeError(`${name} must be a non-negative integer`);
  }
  if (hops < 1 || windowMs < hops || windowMs % hops !== 0) {
    throw new RangeError('windowMs must be a positive multiple of hops');
  }
  const hopMs = windowMs / hops;

  const users = new Map<string, UserState>();
  let maxSeen = -Infinity;
  let nextSweepAt = -Infinity;
  let lateEvents = 0;
  const obs: Observation = {
    late: false,
    day: { key: '', startMs: 0, endMs: 0 },
    windowDistinct: 0,
    windowSaturated: false,
    dayDistinct: 0,
    daySaturated: false,
    pairPreviousAt: -1,
    pairCount: 0,
  };

  /** Tallies of days being closed, by day key; sorted and moved to `closed` after each sweep. */
  const closing = new Map<string, { day: LocalDay; users: DayTally[] }>();
  let closed: ClosedDay[] = [];

  function closeDay(userId: string, d: DayBucket): void {
    if (d.events === 0) return;
    let c = closing.get(d.day.key);
    if (c === undefined) {
      c = { day: d.day, users: [] };
      closing.set(d.day.key, c);
    }
    c.users.push(tallyOf(userId, d));
  }

  function tallyOf(userId: string, d: DayBucket): DayTally {
    return {
      userId,
      distinctPatients: d.patients.size,
      saturated: d.patients.size >= dailyCap,
      events: d.events,
      firstEventAt: d.firstAt,
      lastEventAt: d.lastAt,
      evidence: d.evidence,
    };
  }

  function settleClosing(): void {
    if (closing.size === 0) return;
    const days = [...closing.values()].sort((a, b) => a.day.startMs - b.day.startMs);
    closing.clear();
    for (const c of days) {
      c.users.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
      closed.push(c);
    }
  }

  function takeClosedDays(): readonly ClosedDay[] {
    if (closed.length === 0) return NO_CLOSED_DAYS;
    const out = closed;
    closed = [];
    return out;
  }

  function sweep(cutoff: number): void {
    for (const [userId, u] of users) {
      for (const start of u.windows.keys()) if (start + windowMs <= cutoff) u.windows.delete(start);
      for (const [key, d] of u.days) {
        if (d.day.endMs <= cutoff) {
          closeDay(userId, d);
          u.days.delete(key);
        }
      }
      for (const [patientId, p] of u.pairs) if (p.lastAt + pairWindowMs <= cutoff) u.pairs.delete(patientId);
      if (u.windows.size === 0 && u.days.size === 0 && u.pairs.size === 0) users.delete(userId);
    }
    settleClosing();
  }

  return {
    observe(event) {
      const t = event.occurredAt;
      obs.day = dayClock.dayOf(t);
      if (t > maxSeen) {
        maxSeen = t;
        const cutoff = maxSeen - latenessMs;
        if (cutoff >= nextSweepAt) {
          sweep(cutoff);
          nextSweepAt = cutoff + hopMs;
        }
      }
      const patientId = event.patient?.id;
      if (t < maxSeen - latenessMs) {
        lateEvents++;
        obs.late = true;
        obs.windowDistinct = obs.dayDistinct = obs.pairCount = 0;
        obs.windowSaturated = obs.daySaturated = false;
        obs.pairPreviousAt = -1;
        return obs;
      }
      obs.late = false;
      let u = users.get(event.actor.userId);
      if (u === undefined) {
        u = { windows: new Map(), days: new Map(), pairs: new Map() };
        users.set(event.actor.userId, u);
      }

      // Windows [s, s + windowMs) with s a multiple of hopMs that contain t.
      let distinct = 0;
      const base = t - (t % hopMs);
      for (let j = 0; j < hops; j++) {
        const start = base - j * hopMs;
        let set = u.windows.get(start);
        if (set === undefined) {
          set = new Set();
          u.windows.set(start, set);
        }
        if (patientId !== undefined && set.size < distinctCap) set.add(patientId);
        if (set.size > distinct) distinct = set.size;
      }
      obs.windowDistinct = distinct;
      obs.windowSaturated = distinct >= distinctCap;

      let d = u.days.get(obs.day.key);
      if (d === undefined) {
        d = { day: obs.day, patients: new Set(), events: 0, firstAt: t, lastAt: t, evidence: [] };
        u.days.set(obs.day.key, d);
      }
      if (patientId !== undefined) {
        if (d.patients.size < dailyCap) d.patients.add(patientId);
        if (d.events === 0 || t < d.firstAt) d.firstAt = t;
        if (d.events === 0 || t > d.lastAt) d.lastAt = t;
        d.events++;
        keepEarliest(d.evidence, event, dayEvidenceCap);
      }
      obs.dayDistinct = d.patients.size;
      obs.daySaturated = d.patients.size >= dailyCap;

      obs.pairPreviousAt = -1;
      obs.pairCount = 0;
      if (patientId !== undefined) {
        const p = u.pairs.get(patientId);
        if (p !== undefined) {
          obs.pairPreviousAt = p.lastAt;
          p.count++;
          if (t > p.lastAt) p.lastAt = t;
          obs.pairCount = p.count;
        } else if (u.pairs.size < pairCap) {
          u.pairs.set(patientId, { lastAt: t, count: 1 });
          obs.pairCount = 1;
        }
      }
      return obs;
    },

    watermark: () => maxSeen - latenessMs,

    takeClosedDays,

    closeAllDays() {
      let lastEnd = -Infinity;
      for (const u of users.values()) for (const d of u.days.values()) lastEnd = Math.max(lastEnd, d.day.endMs);
      if (lastEnd > -Infinity && lastEnd + latenessMs > maxSeen) maxSeen = lastEnd + latenessMs;
      sweep(maxSeen - latenessMs);
      nextSweepAt = maxSeen - latenessMs + hopMs;
      return takeClosedDays();
    },

    endedDays(cutoff) {
      const byDay = new Map<string, { day: LocalDay; users: DayTally[] }>();
      for (const [userId, u] of users) {
        for (const d of u.days.values()) {
          if (d.day.endMs > cutoff || d.events === 0) continue;
          let c = byDay.get(d.day.key);
          if (c === undefined) {
            c = { day: d.day, users: [] };
            byDay.set(d.day.key, c);
          }
          // A copy of the evidence: the day stays open and its list keeps changing.
          c.users.push({ ...tallyOf(userId, d), evidence: [...d.evidence] });
        }
      }
      const days = [...byDay.values()].sort((a, b) => a.day.startMs - b.day.startMs);
      for (const c of days) c.users.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
      return days;
    },

    stats() {
      let windows = 0;
      let windowEntries = 0;
      let days = 0;
      let dayEntries = 0;
      let pairs = 0;
      for (const u of users.values()) {
        windows += u.windows.size;
        for (const s of u.windows.values()) windowEntries += s.size;
        days += u.days.size;
        for (const d of u.days.values()) dayEntries += d.patients.size;
        pairs += u.pairs.size;
      }
      return {
        users: users.size,
        windows,
        windowEntries,
        days,
        dayEntries,
        pairs,
        lateEvents,
        watermark: maxSeen - latenessMs,
      };
    },
  };
}
