import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { createDayClock, createWindowState, type WindowSettings } from './window-state.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const settings: WindowSettings = {
  windowMs: 60 * MIN,
  hops: 2,
  latenessMs: 5 * MIN,
  distinctCap: 51,
  dailyCap: 1000,
  pairWindowMs: 30 * MIN,
  pairCap: 100,
};
const T0 = Date.UTC(2026, 2, 2, 9, 0); // a Monday, 10:00 in Berlin

let seq = 0;
function event(userId: string, patientId: string | undefined, occurredAt: number): AccessEvent {
  seq++;
  return {
    eventId: `e${seq}`,
    tenant: 'clinic-a',
    occurredAt,
    receivedAt: occurredAt,
    source: { system: 'epic' },
    actor: { userId },
    ...(patientId === undefined ? {} : { patient: { id: patientId } }),
    action: patientId === undefined ? 'login' : 'view',
    resource: { type: 'chart' },
    outcome: 'success',
  };
}

const newState = (s: WindowSettings = settings) =>
  createWindowState({ settings: s, dayClock: createDayClock('Europe/Berlin') });

describe('createDayClock', () => {
  it('gives local days, 23 and 25 hours long across the DST changes', () => {
    const clock = createDayClock('Europe/Berlin');
    const spring = clock.dayOf(Date.UTC(2026, 2, 29, 12));
    expect(spring.key).toBe('2026-03-29');
    expect(spring.endMs - spring.startMs).toBe(23 * HOUR);
    const autumn = clock.dayOf(Date.UTC(2026, 9, 25, 12));
    expect(autumn.endMs - autumn.startMs).toBe(25 * HOUR);
    // 23:30 UTC on the 1st is already the 2nd in Berlin.
    expect(clock.dayOf(Date.UTC(2026, 2, 1, 23, 30)).key).toBe('2026-03-02');
    expect(clock.dayOf(Date.UTC(2026, 2, 1, 22, 59)).key).toBe('2026-03-01');
  });
});

describe('createWindowState', () => {
  it('counts distinct patients per user per window, not repeat reads, and keeps users apart', () => {
    const s = newState();
    for (const p of ['p1', 'p2', 'p1', 'p3']) s.observe(event('u1', p, T0));
    expect(s.observe(event('u2', 'p1', T0)).windowDistinct).toBe(1);
    const o = s.observe(event('u1', 'p2', T0 + MIN));
    expect(o).toMatchObject({ late: false, windowDistinct: 3, dayDistinct: 3, pairCount: 2, pairPreviousAt: T0 });
  });

  it('counts an out-of-order event within the lateness in its own window', () => {
    const s = newState();
    s.observe(event('u1', 'p1', T0 + 10 * MIN));
    const o = s.observe(event('u1', 'p2', T0 + 6 * MIN)); // 4 minutes late, lateness 5
    expect(o.late).toBe(false);
    expect(o.windowDistinct).toBe(2);
    expect(s.stats().lateEvents).toBe(0);
  });

  it('flags an event beyond the lateness as late and leaves the state untouched', () => {
    const s = newState();
    s.observe(event('u1', 'p1', T0 + 10 * MIN));
    const before = s.stats();
    const o = s.observe(event('u1', 'p2', T0 + 4 * MIN)); // 6 minutes late
    expect(o).toMatchObject({ late: true, windowDistinct: 0, dayDistinct: 0, pairCount: 0 });
    expect(s.stats()).toEqual({ ...before, lateEvents: 1 });
    // The next on-time event sees only p1.
    expect(s.observe(event('u1', 'p1', T0 + 11 * MIN)).windowDistinct).toBe(1);
  });

  it('catches a burst that straddles a window boundary with overlapping windows', () => {
    const s = newState();
    // 20 patients just before and 20 just after a full hour: a tumbling hour would split them.
    const boundary = Date.UTC(2026, 2, 2, 10, 0);
    let last = 0;
    for (let i = 0; i < 40; i++) last = s.observe(event('u1', `p${i}`, boundary - 5 * MIN + i * 15_000)).windowDistinct;
    expect(last).toBe(40);
    const tumbling = newState({ ...settings, hops: 1 });
    for (let i = 0; i < 40; i++)
      last = tumbling.observe(event('u1', `p${i}`, boundary - 5 * MIN + i * 15_000)).windowDistinct;
    expect(last).toBe(20);
  });

  it('caps the distinct set of a bulk reader at distinctCap and says so', () => {
    const s = newState();
    let o = s.observe(event('u1', 'p0', T0));
    for (let i = 1; i < 5000; i++) o = s.observe(event('u1', `p${i}`, T0 + i));
    expect(o.windowDistinct).toBe(settings.distinctCap);
    expect(o.windowSaturated).toBe(true);
    expect(s.stats().windowEntries).toBeLessThanOrEqual(settings.hops * settings.distinctCap);
    expect(s.stats().pairs).toBe(settings.pairCap);
  });

  it('keeps memory bounded by active users and window length over a long stream', () => {
    const s = newState();
    const users = 50;
    const peak = { users: 0, windows: 0, windowEntries: 0, days: 0, dayEntries: 0, pairs: 0 };
    // 30 days, one event per user every 2 minutes, each a new patient: 1,080,000 events.
    let t = T0;
    for (let step = 0; step < 30 * 24 * 30; step++) {
      t += 2 * MIN;
      for (let u = 0; u < users; u++) s.observe(event(`u${u}`, `p${step}-${u}`, t));
      if (step % 500 === 0) {
        const st = s.stats();
        for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], st[k]);
      }
    }
    const st = s.stats();
    expect(st.users).toBe(users);
    // Windows: the hops containing now plus those inside the lateness, per user.
    expect(peak.windows).toBeLessThanOrEqual(users * (settings.hops + 2));
    expect(peak.windowEntries).toBeLessThanOrEqual(users * (settings.hops + 2) * settings.distinctCap);
    expect(peak.days).toBeLessThanOrEqual(users * 2);
    expect(peak.dayEntries).toBeLessThanOrEqual(users * 2 * 720);
    // Pairs live for pairWindowMs past the watermark, swept once per hop (30 minutes).
    const hopMs = settings.windowMs / settings.hops;
    expect(peak.pairs).toBeLessThanOrEqual(
      users * ((settings.pairWindowMs + settings.latenessMs + hopMs) / (2 * MIN) + 1),
    );
    expect(st.lateEvents).toBe(0);
  }, 120_000);

  it('forgets idle users once all their windows are behind the watermark', () => {
    const s = newState();
    s.observe(event('u1', 'p1', T0));
    s.observe(event('u2', 'p1', T0 + 2 * 24 * HOUR));
    expect(s.stats().users).toBe(1);
  });

  it('gives the same observations for the same events in the same order', () => {
    const run = () => {
      const s = newState();
      const out: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const jitter = ((i * 7919) % 11) * MIN; // out of order, some beyond the lateness
        const o = s.observe(event(`u${i % 7}`, i % 13 === 0 ? undefined : `p${i % 97}`, T0 + i * 30_000 - jitter));
        out.push(JSON.stringify(o));
      }
      return { out, stats: s.stats() };
    };
    const a = run();
    const b = run();
    expect(b).toEqual(a);
    expect(a.stats.lateEvents).toBeGreaterThan(0);
  });

  it('rejects settings it cannot window by', () => {
    expect(() => newState({ ...settings, hops: 0 })).toThrow(RangeError);
    expect(() => newState({ ...settings, windowMs: 1001, hops: 2 })).toThrow(RangeError);
    expect(() => newState({ ...settings, latenessMs: -1 })).toThrow(RangeError);
  });

  it('hands each closed local day over once, with per-user tallies and the earliest events as evidence', () => {
    seq = 0;
    const s = newState({ ...settings, dayEvidenceCap: 2 });
    s.observe(event('bob', 'p1', T0 + 2 * MIN));
    s.observe(event('ann', 'p1', T0 + 3 * MIN));
    s.observe(event('ann', 'p2', T0 + MIN)); // out of order within the lateness: earliest evidence
    s.observe(event('ann', 'p1', T0 + 4 * MIN));
    s.observe(event('cat', undefined, T0)); // a login: no patient, no tally
    expect(s.takeClosedDays()).toEqual([]);
    // 23:59 Berlin is still day one. The day closes at the first sweep (once per 30-minute hop)
    // after the watermark passes its end: at 00:06 the watermark has, but no sweep is due yet.
    s.observe(event('ann', 'p9', Date.UTC(2026, 2, 2, 22, 59)));
    s.observe(event('ann', 'p9', Date.UTC(2026, 2, 2, 23, 6)));
    expect(s.takeClosedDays()).toEqual([]);
    s.observe(event('ann', 'p9', Date.UTC(2026, 2, 2, 23, 30)));
    const [closed, ...more] = s.takeClosedDays();
    expect(more).toEqual([]);
    expect(closed!.day.key).toBe('2026-03-02');
    expect(closed!.users.map((u) => [u.userId, u.distinctPatients, u.events])).toEqual([
      ['ann', 3, 4],
      ['bob', 1, 1],
    ]);
    expect(closed!.users[0]!.evidence.map((e) => e.eventId)).toEqual(['e3', 'e2']);
    expect(closed!.users[0]!.lastEventAt).toBe(Date.UTC(2026, 2, 2, 22, 59));
    expect(s.takeClosedDays()).toEqual([]);
    // End of input closes the open day and makes its later events late.
    expect(s.closeAllDays().map((c) => c.day.key)).toEqual(['2026-03-03']);
    expect(s.observe(event('ann', 'p3', Date.UTC(2026, 2, 3, 12, 0))).late).toBe(true);
    expect(s.closeAllDays()).toEqual([]);
  });
});
