import { TZDate } from '@date-fns/tz';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWithinWorkingHours, localWeekMinute, WeeklyHoursSchema, type WeeklyHoursInput } from './business-hours.js';
import { DEFAULT_POLICY, parsePolicy, shiftOf } from './policy.js';

const hours = (input: WeeklyHoursInput) => WeeklyHoursSchema.parse(input);
const utc = (iso: string) => Date.parse(`${iso}Z`);

const sundayDay = hours({ sun: ['08:00-18:00'] });
const saturdayNight = hours({ sat: ['23:00-07:00'] });
const NONE = hours({});

describe('isWithinWorkingHours across DST changes', () => {
  describe('America/New_York', () => {
    const timeZone = 'America/New_York';

    it('spring forward (2025-03-09): the day starts at 08:00 EDT, not 08:00 EST', () => {
      const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: sundayDay });
      expect(within('2025-03-09T11:59:00')).toBe(false); // 07:59 EDT
      expect(within('2025-03-09T12:00:00')).toBe(true); // 08:00 EDT (07:00 at the old offset)
      expect(within('2025-03-09T21:59:00')).toBe(true); // 17:59 EDT
      expect(within('2025-03-09T22:00:00')).toBe(false); // 18:00 EDT
    });

    it('spring forward: a night shift across the gap ends at 07:00 wall clock, after 7 real hours', () => {
      const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: NONE, shift: saturdayNight });
      expect(within('2025-03-09T03:59:00')).toBe(false); // Sat 22:59 EST
      expect(within('2025-03-09T04:00:00')).toBe(true); // Sat 23:00 EST
      expect(within('2025-03-09T07:30:00')).toBe(true); // 03:30 EDT, just after the gap
      expect(within('2025-03-09T10:59:00')).toBe(true); // 06:59 EDT
      expect(within('2025-03-09T11:30:00')).toBe(false); // 07:30 EDT, though only 7.5 h after the start
    });

    it('fall back (2025-11-02): both 01:30s are in the night shift, which ends at 07:00 EST after 9 real hours', () => {
      const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: NONE, shift: saturdayNight });
      expect(within('2025-11-02T03:00:00')).toBe(true); // Sat 23:00 EDT
      expect(within('2025-11-02T05:30:00')).toBe(true); // 01:30 EDT
      expect(within('2025-11-02T06:30:00')).toBe(true); // 01:30 EST, the repeated hour
      expect(within('2025-11-02T11:59:00')).toBe(true); // 06:59 EST, 9 h after the start
      expect(within('2025-11-02T12:00:00')).toBe(false); // 07:00 EST
    });

    it('fall back: the day starts at 08:00 EST, not 08:00 EDT', () => {
      const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: sundayDay });
      expect(within('2025-11-02T12:30:00')).toBe(false); // 07:30 EST (08:30 at the old offset)
      expect(within('2025-11-02T13:00:00')).toBe(true); // 08:00 EST
    });
  });

  describe('Europe/Berlin', () => {
    const timeZone = 'Europe/Berlin';

    it('spring forward (2025-03-30): the day starts at 08:00 CEST', () => {
      const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: sundayDay });
      expect(within('2025-03-30T05:59:00')).toBe(false); // 07:59 CEST
      expect(within('2025-03-30T06:00:00')).toBe(true); // 08:00 CEST (07:00 at the old offset)
    });

    it('fall back (2025-10-26): both 02:30s are in the night shift, which ends at 06:00 CET', () => {
      const shift = hours({ sat: ['22:00-06:00'] });
      const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: NONE, shift });
      expect(within('2025-10-26T00:30:00')).toBe(true); // 02:30 CEST
      expect(within('2025-10-26T01:30:00')).toBe(true); // 02:30 CET, the repeated hour
      expect(within('2025-10-26T04:59:00')).toBe(true); // 05:59 CET
      expect(within('2025-10-26T05:00:00')).toBe(false); // 06:00 CET
      const day = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: sundayDay });
      expect(day('2025-10-26T06:30:00')).toBe(false); // 07:30 CET (08:30 at the old offset)
      expect(day('2025-10-26T07:00:00')).toBe(true); // 08:00 CET
    });
  });
});

describe('isWithinWorkingHours with the default policy and shifts', () => {
  const { timeZone, businessHours } = DEFAULT_POLICY;
  const policy = parsePolicy({
    shifts: { night: { mon: ['23:00-07:00'], tue: ['23:00-07:00'], fri: ['23:00-07:00'] } },
    roleShifts: { nurse: 'night' },
  });
  const nurse = shiftOf(policy, { role: 'nurse', department: 'icu' });
  const clerk = shiftOf(policy, { role: 'front_desk', department: 'icu' });

  it('a night-shift nurse at 02:00 is at work; a day worker at the same instant is not', () => {
    const at = utc('2025-06-10T06:00:00'); // Tuesday 02:00 EDT, in Monday's night shift
    expect(isWithinWorkingHours(at, { timeZone, hours: businessHours, shift: nurse })).toBe(true);
    expect(isWithinWorkingHours(at, { timeZone, hours: businessHours, shift: clerk })).toBe(false);
  });

  it("a shift widens business hours and never narrows them: the night nurse's 10:00 is working time", () => {
    const at = utc('2025-06-10T14:00:00'); // Tuesday 10:00 EDT
    expect(isWithinWorkingHours(at, { timeZone, hours: businessHours, shift: nurse })).toBe(true);
  });

  it("Friday's night shift covers Saturday 02:00, but no shift starts Saturday night", () => {
    expect(isWithinWorkingHours(utc('2025-06-14T06:00:00'), { timeZone, hours: businessHours, shift: nurse })).toBe(
      true,
    ); // Sat 02:00 EDT
    expect(isWithinWorkingHours(utc('2025-06-15T06:00:00'), { timeZone, hours: businessHours, shift: nurse })).toBe(
      false,
    ); // Sun 02:00 EDT
  });

  it('weekends are outside the default business hours; weekday edges are start-inclusive, end-exclusive', () => {
    const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone, hours: businessHours });
    expect(within('2025-06-14T14:00:00')).toBe(false); // Saturday 10:00 EDT
    expect(within('2025-06-15T14:00:00')).toBe(false); // Sunday 10:00 EDT
    expect(within('2025-06-16T10:59:00')).toBe(false); // Monday 06:59 EDT
    expect(within('2025-06-16T11:00:00')).toBe(true); // Monday 07:00 EDT
    expect(within('2025-06-13T22:59:00')).toBe(true); // Friday 18:59 EDT
    expect(within('2025-06-13T23:00:00')).toBe(false); // Friday 19:00 EDT
  });

  it('"00:00-24:00" is the whole day', () => {
    const allDay = hours({ wed: ['00:00-24:00'] });
    const within = (iso: string) => isWithinWorkingHours(utc(iso), { timeZone: 'UTC', hours: allDay });
    expect(within('2025-06-11T00:00:00')).toBe(true);
    expect(within('2025-06-11T23:59:59')).toBe(true);
    expect(within('2025-06-12T00:00:00')).toBe(false);
  });
});

describe('WeeklyHoursSchema', () => {
  it('rejects malformed ranges and unknown days with their paths', () => {
    const result = WeeklyHoursSchema.safeParse({ mon: ['8:00-9:00', '24:00-01:00'], funday: [] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['mon.0', 'mon.1', '']));
  });
});

describe('localWeekMinute', () => {
  it('agrees with TZDate for any instant in zones with DST, half-hour and 45-minute offsets', () => {
    const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(...zones),
        (epochMs, zone) => {
          const local = new TZDate(epochMs, zone);
          expect(localWeekMinute(epochMs, zone)).toEqual({
            weekday: local.getDay(),
            minute: local.getHours() * 60 + local.getMinutes(),
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('agrees with TZDate minute by minute across every 2025 DST change in New York and Berlin', () => {
    const changes = [
      ['America/New_York', Date.UTC(2025, 2, 9, 7)],
      ['America/New_York', Date.UTC(2025, 10, 2, 6)],
      ['Europe/Berlin', Date.UTC(2025, 2, 30, 1)],
      ['Europe/Berlin', Date.UTC(2025, 9, 26, 1)],
    ] as const;
    for (const [zone, at] of changes) {
      for (let t = at - 2 * 3_600_000; t <= at + 2 * 3_600_000; t += 60_000) {
        const local = new TZDate(t, zone);
        expect(localWeekMinute(t, zone).minute).toBe(local.getHours() * 60 + local.getMinutes());
      }
    }
  });
});
