import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { AlertSchema, type Alert } from '../alert.js';
import { createDetector, type EnginePolicy } from '../engine.js';
import {
  peerDeviationRule,
  robustScale,
  type PeerDeviationPolicy,
  type PeerDeviationReference,
} from './peer-deviation.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy: EnginePolicy & PeerDeviationPolicy = {
  timeZone: 'UTC',
  window: {
    windowMs: HOUR,
    hops: 1,
    latenessMs: 10 * MIN,
    distinctCap: 1000,
    dailyCap: 1000,
    pairWindowMs: MIN,
    pairCap: 10,
    dayEvidenceCap: 5,
  },
  peerDeviation: {
    enabled: true,
    severity: 'medium',
    riskScore: 50,
    exemptRoles: [],
    zScore: 3,
    minPeers: 5,
    minDistinctPatients: 30,
  },
};
const roles: Record<string, string> = {};
for (let i = 0; i < 20; i++) roles[`nurse${i}`] = 'nurse';
roles['him'] = 'him-clerk';
const reference: PeerDeviationReference = {
  member: (u) => (roles[u] === undefined ? undefined : { role: roles[u] }),
  displayNameOfUser: (u) => (u === 'nurse0' ? 'Nurse Ada Lovelace' : undefined),
};
const DAY1 = Date.UTC(2026, 2, 2, 8, 0);
const DAY2 = Date.UTC(2026, 2, 3, 8, 0);

/** One user's day: `patients` distinct patients, a read a minute from 08:00 UTC. */
function userDay(userId: string, patients: number, from = DAY1): AccessEvent[] {
  return Array.from({ length: patients }, (_, i) => ({
    eventId: `${userId}-${from}-${i}`,
    tenant: 't',
    occurredAt: from + i * MIN,
    receivedAt: from + i * MIN,
    source: { system: 'epic' },
    actor: { userId, name: 'free text <b>' },
    patient: { id: `p${i}` },
    action: 'view',
    resource: { type: 'chart' },
    outcome: 'success',
  }));
}

/** Events in time order; `close` adds one event the next day past the lateness, which closes day 1. */
function run(
  days: AccessEvent[][],
  { close = true, p = policy, reorder = (e: AccessEvent[]) => e } = {},
): { processed: Alert[]; flushed: Alert[] } {
  const d = createDetector({ rules: [peerDeviationRule], policyFor: () => p, referenceFor: () => reference });
  const events = reorder(days.flat().sort((a, b) => a.occurredAt - b.occurredAt || (a.eventId < b.eventId ? -1 : 1)));
  if (close) events.push(...userDay('nurse19', 1, DAY2));
  const processed = events.flatMap((e) => d.process(e));
  return { processed, flushed: d.flush() };
}

/** Ten nurses with 18–26 patients each on day 1. */
const peers = (): AccessEvent[][] => Array.from({ length: 10 }, (_, i) => userDay(`nurse${i + 1}`, 18 + i));

describe('peer-deviation', () => {
  it('fires for an outlier among ten peers when the day closes, with the earliest events as evidence', () => {
    const { processed, flushed } = run([...peers(), userDay('nurse0', 120)]);
    expect(flushed).toEqual([]);
    expect(processed).toHaveLength(1);
    const a = processed[0]!;
    expect(AlertSchema.parse(a)).toEqual(a);
    expect(a).toMatchObject({ ruleId: 'peer-deviation', userId: 'nurse0', day: '2026-03-02', severity: 'medium' });
    expect(a.patientId).toBeUndefined();
    expect(a.riskScore).toBe(50);
    expect(a.evidence.map((e) => e.eventId)).toEqual([0, 1, 2, 3, 4].map((i) => `nurse0-${DAY1}-${i}`));
    expect(a.truncated).toBe(true);
    expect(a.firstEventAt).toBe(DAY1);
    expect(a.lastEventAt).toBe(DAY1 + 119 * MIN);
    expect(a.explanation).toMatch(
      /^Nurse Ada Lovelace opened the records of 120 distinct patients on 2026-03-02, against a median of 23 among the 10 other users in role nurse that day \(\d+\.\d robust standard deviations above it; the policy allows 3\)\.$/,
    );
    expect(a.explanation).not.toContain('free text');
  });

  it('does not fire before the day closes, and fires once at end of input', () => {
    const d = createDetector({ rules: [peerDeviationRule], policyFor: () => policy, referenceFor: () => reference });
    const events = [...peers(), userDay('nurse0', 120)].flat().sort((a, b) => a.occurredAt - b.occurredAt);
    expect(events.flatMap((e) => d.process(e))).toEqual([]);
    expect(d.flush()).toEqual([]);
    const final = d.flush({ endOfInput: true });
    expect(final.map((a) => a.userId)).toEqual(['nurse0']);
    expect(d.flush({ endOfInput: true })).toEqual([]);
    // Later events of the closed day are late: the day does not reopen.
    expect(userDay('nurse0', 200).flatMap((e) => d.process(e))).toEqual([]);
    expect(d.flush({ endOfInput: true })).toEqual([]);
  });

  it('gives the same alert, once, for another arrival order within the lateness and for a replay', () => {
    const day = [...peers(), userDay('nurse0', 120)];
    const first = run(day).processed;
    // Each block of 5 events (under the 10 minutes of lateness) arrives backwards.
    const backwards = (e: AccessEvent[]) =>
      Array.from({ length: Math.ceil(e.length / 5) }, (_, i) => e.slice(i * 5, i * 5 + 5).reverse()).flat();
    expect(run(day, { reorder: backwards }).processed).toEqual(first);
    expect(first).toHaveLength(1);

    const d = createDetector({ rules: [peerDeviationRule], policyFor: () => policy, referenceFor: () => reference });
    const events = [...day.flat().sort((a, b) => a.occurredAt - b.occurredAt), ...userDay('nurse19', 1, DAY2)];
    const once = events.flatMap((e) => d.process(e));
    const twice = events.flatMap((e) => d.process(e));
    expect(once).toEqual(first);
    expect([...twice, ...d.flush(), ...d.flush({ endOfInput: true })].filter((a) => a.day === '2026-03-02')).toEqual(
      [],
    );
  });

  it('does not fire on a role-wide busy day where everyone is high', () => {
    const busy = Array.from({ length: 11 }, (_, i) => userDay(`nurse${i}`, 150 + i * 7));
    expect(run(busy).processed).toEqual([]);
  });

  it('does not fire with too few peers, and fires with exactly the minimum', () => {
    const few = peers().slice(0, 4);
    expect(run([...few, userDay('nurse0', 120)]).processed).toEqual([]);
    expect(run([...peers().slice(0, 5), userDay('nurse0', 120)]).processed).toHaveLength(1);
  });

  it('does not fire below the minimum absolute count, however far above the peers', () => {
    const quiet = Array.from({ length: 10 }, (_, i) => userDay(`nurse${i + 1}`, 2 + (i % 2)));
    expect(run([...quiet, userDay('nurse0', 29)]).processed).toEqual([]);
    expect(run([...quiet, userDay('nurse0', 30)]).processed).toHaveLength(1);
  });

  it('skips a user without reference data, and does not count them as a peer', () => {
    expect(run([...peers(), userDay('stranger', 120)]).processed).toEqual([]);
    const fourPeersAndStrangers = [
      ...peers().slice(0, 4),
      ...['x1', 'x2', 'x3'].map((u) => userDay(u, 20)),
      userDay('nurse0', 120),
    ];
    expect(run(fourPeersAndStrangers).processed).toEqual([]);
  });

  it('compares within the role only, skips exempt roles, and respects enabled', () => {
    // A HIM clerk with many charts among nurses is alone in their role: no comparison.
    expect(run([...peers(), userDay('him', 300)]).processed).toEqual([]);
    const exempt = { ...policy, peerDeviation: { ...policy.peerDeviation, exemptRoles: ['nurse'] } };
    expect(run([...peers(), userDay('nurse0', 120)], { p: exempt }).processed).toEqual([]);
    const off = { ...policy, peerDeviation: { ...policy.peerDeviation, enabled: false } };
    expect(run([...peers(), userDay('nurse0', 120)], { p: off }).processed).toEqual([]);
  });
});

describe('robustScale', () => {
  it('uses 1.4826 × MAD, unmoved by one outlier', () => {
    const { median, scale } = robustScale([10, 12, 14, 16, 18, 1000]);
    expect(median).toBe(15);
    expect(scale).toBeCloseTo(1.4826 * 3, 6);
  });

  it('falls back to the mean absolute deviation when MAD is 0, floored at 10 % of the median', () => {
    expect(robustScale([20, 20, 20, 20, 40]).scale).toBeCloseTo(Math.max((1.2533 * 20) / 5, 2), 6);
    expect(robustScale([100, 100, 100]).scale).toBe(10);
    expect(robustScale([0, 0, 0]).scale).toBe(1);
  });
});
