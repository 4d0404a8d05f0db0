import { describe, expect, it } from 'vitest';
import type { EnginePolicy } from './engine.js';
import { DEFAULT_POLICY, parsePolicy, PolicyError, RULE_IDS, shiftOf } from './policy.js';
import type { BulkReadPolicy } from './rules/bulk-read.js';
import type { SelfAccessPolicy } from './rules/self-access.js';

function problemsOf(input: unknown): readonly string[] {
  try {
    parsePolicy(input);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).code).toBe('RULES_INVALID_POLICY');
    return (err as PolicyError).problems;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parsePolicy', () => {
  it('the default policy is what an empty file gives, and the engine and rules accept it', () => {
    // Compile-time: the parsed policy is what the engine and the rules read.
    const policy: EnginePolicy & BulkReadPolicy & SelfAccessPolicy = DEFAULT_POLICY;
    expect(parsePolicy('{}')).toEqual(DEFAULT_POLICY);
    expect(policy.timeZone).toBe('America/New_York');
    expect(policy.window).toEqual({
      windowMs: 3_600_000,
      hops: 2,
      latenessMs: 3_600_000,
      distinctCap: 51,
      dailyCap: 1000,
      pairWindowMs: 1_800_000,
      pairCap: 1000,
    });
    expect(DEFAULT_POLICY.businessHours.sat).toEqual([]);
    expect(DEFAULT_POLICY.breakTheGlass.reviewExplained).toBe(false);
    expect(DEFAULT_POLICY.bulkRead.recordCount).toBe(500);
    expect(DEFAULT_POLICY.businessHours.mon).toEqual([{ startMinute: 420, endMinute: 1140, crossesMidnight: false }]);
  });

  it('every rule of the DESIGN.md set has a section, enabled, with a severity and a 0–100 risk score', () => {
    const camel = (id: string) => id.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    for (const id of RULE_IDS) {
      const section = (DEFAULT_POLICY as unknown as Record<string, { enabled: boolean; riskScore: number }>)[camel(id)];
      expect(section, id).toBeDefined();
      expect(section?.enabled, id).toBe(true);
      expect(section?.riskScore, id).toBeGreaterThanOrEqual(0);
      expect(section?.riskScore, id).toBeLessThanOrEqual(100);
    }
  });

  it('keeps what a tenant sets and defaults the rest', () => {
    const policy = parsePolicy({
      timeZone: 'Europe/Berlin',
      bulkRead: { maxDistinctPatients: 200, severity: 'critical' },
      window: { minutes: 120 },
      peerDeviation: { enabled: false },
    });
    expect(policy.timeZone).toBe('Europe/Berlin');
    expect(policy.bulkRead).toMatchObject({ maxDistinctPatients: 200, severity: 'critical', riskScore: 75 });
    expect(policy.window.distinctCap).toBe(201);
    expect(policy.window.windowMs).toBe(7_200_000);
    expect(policy.peerDeviation.enabled).toBe(false);
    expect(policy.peerDeviation.zScore).toBe(3);
    expect(policy.family.withRelationship).toBe('suppress');
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf({
      timeZone: 'Mars/Olympus_Mons',
      businessHours: { mon: ['8-17'], funday: [] },
      bulkRead: { maxDistinctPatients: 0, threshold: 5 },
      afterHours: { riskScore: 101, severity: 'urgent' },
      roleShifts: { nurse: 'night' },
      window: { minutes: 7, hops: 7 },
      colour: 'blue',
    });
    const paths = problems.map((p) => p.slice(0, p.indexOf(':')));
    expect(paths).toEqual(
      expect.arrayContaining([
        'timeZone',
        'businessHours.mon.0',
        'businessHours',
        'bulkRead.maxDistinctPatients',
        'bulkRead',
        'afterHours.riskScore',
        'afterHours.severity',
        '(policy)',
      ]),
    );
    expect(problems.join('\n')).toContain('unknown IANA time zone');
    expect(problems.join('\n')).toContain('"threshold"');
    expect(problems.join('\n')).toContain('"colour"');
  });

  it('checks cross-field rules: shift names and window hops', () => {
    const problems = problemsOf({ roleShifts: { nurse: 'graveyard' }, window: { minutes: 1, hops: 7 } });
    expect(problems).toEqual([
      'window.hops: must divide the window length in ms',
      'roleShifts.nurse: unknown shift "graveyard"',
    ]);
    // The default shifts can be named without defining them.
    expect(parsePolicy({ roleShifts: { nurse: 'night' } }).roleShifts).toEqual({ nurse: 'night' });
  });

  it('rejects text that is not JSON, keeping the parse error as cause', () => {
    expect(() => parsePolicy('{ timeZone: ')).toThrow(PolicyError);
    expect(problemsOf('{ nope')[0]).toMatch(/^\(file\): not JSON/);
  });

  it('returns a frozen policy', () => {
    const policy = parsePolicy({});
    expect(Object.isFrozen(policy.bulkRead)).toBe(true);
    expect(Object.isFrozen(policy.businessHours.mon)).toBe(true);
  });
});

describe('default shifts', () => {
  const range = (startMinute: number, endMinute: number) => [
    { startMinute, endMinute, crossesMidnight: endMinute <= startMinute },
  ];

  it('cover a day, evening and night roster every day of the week', () => {
    expect(Object.keys(DEFAULT_POLICY.shifts).sort()).toEqual(['day', 'evening', 'night']);
    for (const day of ['mon', 'sat', 'sun'] as const) {
      expect(DEFAULT_POLICY.shifts['day']?.[day]).toEqual(range(7 * 60, 15 * 60));
      expect(DEFAULT_POLICY.shifts['evening']?.[day]).toEqual(range(15 * 60, 23 * 60));
      expect(DEFAULT_POLICY.shifts['night']?.[day]).toEqual(range(23 * 60, 7 * 60));
    }
    expect(shiftOf(DEFAULT_POLICY, { role: 'nurse', department: 'ed', shift: 'night' })).toBe(
      DEFAULT_POLICY.shifts['night'],
    );
  });

  it('leave office and unknown shifts to business hours', () => {
    expect(shiftOf(DEFAULT_POLICY, { role: 'billing', department: 'billing', shift: 'office' })).toBeUndefined();
    expect(shiftOf(DEFAULT_POLICY, { role: 'billing', department: 'billing', shift: 'swing' })).toBeUndefined();
  });

  it("are kept beside a tenant's own shifts, which may redefine one by name", () => {
    const policy = parsePolicy({ shifts: { night: { mon: ['22:00-06:00'] }, icu: { sun: ['07:00-19:00'] } } });
    expect(Object.keys(policy.shifts).sort()).toEqual(['day', 'evening', 'icu', 'night']);
    expect(policy.shifts['night']?.mon).toEqual(range(22 * 60, 6 * 60));
    expect(policy.shifts['night']?.tue).toEqual([]);
    expect(policy.shifts['day']).toEqual(DEFAULT_POLICY.shifts['day']);
  });
});

describe('shiftOf', () => {
  const policy = parsePolicy({
    shifts: { night: { mon: ['23:00-07:00'] }, evening: { mon: ['15:00-23:00'] }, icu: { mon: ['07:00-19:00'] } },
    roleShifts: { nurse: 'night' },
    departmentShifts: { icu: 'icu' },
  });

  it("prefers the member's own shift, then the department's, then the role's", () => {
    expect(shiftOf(policy, { role: 'nurse', department: 'icu', shift: 'evening' })).toBe(policy.shifts['evening']);
    expect(shiftOf(policy, { role: 'nurse', department: 'icu' })).toBe(policy.shifts['icu']);
    expect(shiftOf(policy, { role: 'nurse', department: 'ward' })).toBe(policy.shifts['night']);
    expect(shiftOf(policy, { role: 'billing', department: 'ward' })).toBeUndefined();
  });

  it('skips a shift name the policy does not define instead of failing', () => {
    expect(shiftOf(policy, { role: 'nurse', department: 'ward', shift: 'office' })).toBe(policy.shifts['night']);
  });
});
