import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../alert.js';
import { createDetector, type EnginePolicy } from '../engine.js';
import { bulkReadRule, type BulkReadPolicy } from './bulk-read.js';

const MIN = 60_000;
const policy: EnginePolicy & BulkReadPolicy = {
  timeZone: 'UTC',
  window: {
    windowMs: 60 * MIN,
    hops: 2,
    latenessMs: 5 * MIN,
    distinctCap: 11,
    dailyCap: 1000,
    pairWindowMs: MIN,
    pairCap: 10,
  },
  bulkRead: { enabled: true, maxDistinctPatients: 10 },
};
const T0 = Date.UTC(2026, 2, 2, 9, 0);

/** Runs reads of the given patients at the given times through a detector; returns all alerts. */
function run(reads: [patient: string, at: number][], p = policy): Alert[] {
  const d = createDetector({ rules: [bulkReadRule], policyFor: () => p, referenceFor: () => undefined });
  const out: Alert[] = [];
  reads.forEach(([patient, at], i) => {
    const e: AccessEvent = {
      eventId: `e${i}`,
      tenant: 't',
      occurredAt: at,
      receivedAt: at,
      source: { system: 'epic' },
      actor: { userId: 'clerk' },
      patient: { id: patient },
      action: 'view',
      resource: { type: 'chart' },
      outcome: 'success',
    };
    out.push(...d.process(e));
  });
  return [...out, ...d.flush()];
}
const distinct = (n: number, spacing = MIN, from = T0): [string, number][] =>
  Array.from({ length: n }, (_, i) => [`p${i}`, from + i * spacing]);

describe('bulk-read', () => {
  it('fires above the threshold of distinct patients in a window, one alert per user and day', () => {
    const alerts = run(distinct(14));
    expect(alerts.at(-1)).toMatchObject({ ruleId: 'bulk-read', userId: 'clerk', severity: 'high' });
    expect(alerts.at(-1)!.evidence.map((e) => e.eventId)).toEqual(['e10', 'e11', 'e12', 'e13']);
    expect(new Set(alerts.map((a) => a.alertId)).size).toBe(1);
    expect(alerts[0]!.explanation).toBe(
      'User clerk accessed the records of more than 10 distinct patients within 60 minutes.',
    );
  });

  it('does not fire at exactly the threshold', () => {
    expect(run(distinct(10))).toEqual([]);
  });

  it('does not fire for many reads of few patients', () => {
    expect(run(Array.from({ length: 200 }, (_, i) => [`p${i % 10}`, T0 + i * 1000]))).toEqual([]);
  });

  it('does not fire when the same number of patients is spread wider than the window', () => {
    expect(run(distinct(30, 20 * MIN))).toEqual([]);
  });

  it('counts a read arriving late within the lateness, not one beyond it', () => {
    const eleventh: [string, number] = ['p10', T0 + 2 * MIN];
    const base = distinct(10, 30_000, T0); // up to T0 + 4.5 minutes
    expect(run([...base, ['p0', T0 + 6 * MIN], eleventh])).toHaveLength(1); // 4 minutes late
    expect(run([...base, ['p0', T0 + 9 * MIN], eleventh])).toEqual([]); // 7 minutes late
  });

  it('fires on one export or query returning at least bulkRead.recordCount rows', () => {
    const rows = { ...policy, bulkRead: { ...policy.bulkRead, recordCount: 500 } };
    const one = (
      action: AccessEvent['action'],
      recordCount: number | undefined,
      p: EnginePolicy & BulkReadPolicy = rows,
    ): Alert[] => {
      const d = createDetector({ rules: [bulkReadRule], policyFor: () => p, referenceFor: () => undefined });
      return d.process({
        eventId: 'x1',
        tenant: 't',
        occurredAt: T0,
        receivedAt: T0,
        source: { system: 'epic' },
        actor: { userId: 'clerk' },
        patient: { id: 'p1' },
        action,
        resource: { type: 'List' },
        outcome: 'success',
        ...(recordCount === undefined ? {} : { recordCount }),
      });
    };
    const [a, ...rest] = one('export', 2_000);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ ruleId: 'bulk-read', userId: 'clerk', severity: 'high' });
    expect(a!.patientId).toBeUndefined();
    expect(a!.explanation).toBe('User clerk exported 2000 records in one export (the policy allows fewer than 500).');
    expect(one('query', 500)).toHaveLength(1);
    // Near misses: one row fewer, a view that reports a count, no count, no row limit in the policy.
    expect(one('export', 499)).toEqual([]);
    expect(one('view', 5_000)).toEqual([]);
    expect(one('export', undefined)).toEqual([]);
    expect(one('export', 5_000, policy)).toEqual([]);
  });

  it('refuses a policy whose distinct cap cannot exceed the threshold', () => {
    expect(() => run(distinct(1), { ...policy, window: { ...policy.window, distinctCap: 10 } })).toThrow(RangeError);
  });
});
