import { describe, expect, it } from 'vitest';
import { breachClock, type BreachClockInput } from './breach-clock.js';

const clock = (input: Partial<BreachClockInput> & Pick<BreachClockInput, 'discoveredOn'>) =>
  breachClock({ today: input.discoveredOn, ...input });

describe('breachClock: individual notice (164.404)', () => {
  it('is due 60 calendar days after discovery, counting down to 0 on the day and negative after', () => {
    expect(clock({ discoveredOn: '2026-03-10' }).individuals).toEqual({
      deadline: '2026-05-09',
      daysRemaining: 60,
      overdue: false,
    });
    expect(clock({ discoveredOn: '2026-03-10', today: '2026-05-09' }).individuals).toEqual({
      deadline: '2026-05-09',
      daysRemaining: 0,
      overdue: false,
    });
    expect(clock({ discoveredOn: '2026-03-10', today: '2026-05-10' }).individuals).toEqual({
      deadline: '2026-05-09',
      daysRemaining: -1,
      overdue: true,
    });
    expect(clock({ discoveredOn: '2026-03-10', today: '2027-03-10' }).individuals.daysRemaining).toBe(-305);
  });

  it('counts calendar days across February in leap and common years and across a DST change', () => {
    expect(clock({ discoveredOn: '2028-01-15' }).individuals.deadline).toBe('2028-03-15'); // 29-day February
    expect(clock({ discoveredOn: '2027-01-15' }).individuals.deadline).toBe('2027-03-16'); // 28-day February
    expect(clock({ discoveredOn: '2028-02-29' }).individuals.deadline).toBe('2028-04-29');
    expect(clock({ discoveredOn: '2026-03-01' }).individuals.deadline).toBe('2026-04-30');
    expect(clock({ discoveredOn: '2026-10-01', today: '2026-11-15' }).individuals).toMatchObject({
      deadline: '2026-11-30',
      daysRemaining: 15,
    });
  });

  it('crosses the year end for a discovery late in December', () => {
    expect(clock({ discoveredOn: '2026-12-31' }).individuals.deadline).toBe('2027-03-01');
    expect(clock({ discoveredOn: '2027-12-31' }).individuals.deadline).toBe('2028-02-29');
    expect(clock({ discoveredOn: '2026-11-15' }).individuals.deadline).toBe('2027-01-14');
  });
});

describe('breachClock: HHS (164.408)', () => {
  it('500 or more individuals: contemporaneous with the individual notice', () => {
    for (const n of [500, 501, 1_000_000]) {
      expect(clock({ discoveredOn: '2026-03-10', today: '2026-04-01', affectedIndividuals: n }).hhs).toEqual({
        notice: 'contemporaneous',
        deadline: '2026-05-09',
        daysRemaining: 38,
        overdue: false,
      });
    }
  });

  it('fewer than 500: the annual log, 60 days after the end of the year of discovery', () => {
    expect(clock({ discoveredOn: '2026-03-10', affectedIndividuals: 499 }).hhs).toEqual({
      notice: 'annual_log',
      deadline: '2027-03-01',
      daysRemaining: 356,
      overdue: false,
    });
    // The next year is a leap year: 31 December + 60 days = 29 February.
    expect(clock({ discoveredOn: '2027-06-01', affectedIndividuals: 1 }).hhs).toMatchObject({
      notice: 'annual_log',
      deadline: '2028-02-29',
    });
    // Discovered in a leap year: the log is due in the (common) year after.
    expect(clock({ discoveredOn: '2028-02-29', affectedIndividuals: 0 }).hhs).toMatchObject({
      notice: 'annual_log',
      deadline: '2029-03-01',
    });
    // Discovered on 31 December: 60 days later, the same day as the individual notice.
    const yearEnd = clock({ discoveredOn: '2026-12-31', affectedIndividuals: 10 });
    expect(yearEnd.hhs).toMatchObject({ notice: 'annual_log', deadline: '2027-03-01', daysRemaining: 60 });
    expect(clock({ discoveredOn: '2026-01-01', affectedIndividuals: 10, today: '2027-03-02' }).hhs).toMatchObject({
      deadline: '2027-03-01',
      daysRemaining: -1,
      overdue: true,
    });
  });

  it('unknown count: unknown, no deadline', () => {
    expect(clock({ discoveredOn: '2026-03-10' }).hhs).toEqual({ notice: 'unknown' });
    expect(clock({ discoveredOn: '2026-03-10', largestJurisdictionCount: 900 }).hhs).toEqual({ notice: 'unknown' });
  });
});

describe('breachClock: media (164.406)', () => {
  it('more than 500 residents of the largest jurisdiction: required, within the 60 days', () => {
    expect(
      clock({ discoveredOn: '2026-03-10', affectedIndividuals: 2000, largestJurisdictionCount: 501 }).media,
    ).toEqual({ notice: 'required', deadline: '2026-05-09', daysRemaining: 60, overdue: false });
  });

  it('exactly 500 residents is not more than 500: not required (while HHS is contemporaneous)', () => {
    const c = clock({ discoveredOn: '2026-03-10', affectedIndividuals: 500, largestJurisdictionCount: 500 });
    expect(c.media).toEqual({ notice: 'not_required' });
    expect(c.hhs.notice).toBe('contemporaneous');
    expect(clock({ discoveredOn: '2026-03-10', affectedIndividuals: 500 }).media).toEqual({ notice: 'not_required' });
  });

  it('the largest jurisdiction decides even when the total exceeds 500', () => {
    expect(
      clock({ discoveredOn: '2026-03-10', affectedIndividuals: 5000, largestJurisdictionCount: 300 }).media,
    ).toEqual({ notice: 'not_required' });
  });

  it('only the total known: possible above 500, not required at or below', () => {
    expect(clock({ discoveredOn: '2026-03-10', affectedIndividuals: 501 }).media).toMatchObject({
      notice: 'possible',
      deadline: '2026-05-09',
    });
    expect(clock({ discoveredOn: '2026-03-10', affectedIndividuals: 12 }).media).toEqual({ notice: 'not_required' });
  });

  it('nothing known: unknown', () => {
    expect(clock({ discoveredOn: '2026-03-10' }).media).toEqual({ notice: 'unknown' });
  });
});

describe('breachClock: status', () => {
  it('runs until assessed; a breach conclusion keeps it running', () => {
    expect(clock({ discoveredOn: '2026-03-10' }).status).toBe('running');
    expect(clock({ discoveredOn: '2026-03-10', conclusion: 'breach' }).status).toBe('running');
  });

  it('low probability of compromise: not a breach, deadlines kept for reference but never overdue', () => {
    const c = clock({
      discoveredOn: '2026-01-01',
      today: '2027-06-01',
      affectedIndividuals: 900,
      largestJurisdictionCount: 600,
      conclusion: 'low_probability_of_compromise',
    });
    expect(c.status).toBe('not_a_breach');
    expect(c.individuals).toEqual({ deadline: '2026-03-02', daysRemaining: -456, overdue: false });
    expect(c.hhs).toMatchObject({ notice: 'contemporaneous', overdue: false });
    expect(c.media).toMatchObject({ notice: 'required', overdue: false });
    expect([c.discoveredOn, c.today]).toEqual(['2026-01-01', '2027-06-01']);
  });
});

describe('breachClock: input', () => {
  it.each(['2026-02-30', '2026-13-01', '2026-3-1', '2026-03-10T00:00:00Z', '', 'yesterday', '2025-02-29'])(
    'rejects the date %j',
    (bad) => {
      expect(() => breachClock({ discoveredOn: bad, today: '2026-03-10' })).toThrow(/discoveredOn/);
      expect(() => breachClock({ discoveredOn: '2026-03-10', today: bad })).toThrow(/today/);
    },
  );

  it('rejects negative or fractional counts', () => {
    expect(() => clock({ discoveredOn: '2026-03-10', affectedIndividuals: -1 })).toThrow(/affectedIndividuals/);
    expect(() => clock({ discoveredOn: '2026-03-10', largestJurisdictionCount: 1.5 })).toThrow(
      /largestJurisdictionCount/,
    );
  });
});
