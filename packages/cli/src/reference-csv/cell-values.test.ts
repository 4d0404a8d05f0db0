import { describe, expect, it } from 'vitest';
import { convertCell, isTimeZone } from './cell-values.js';

const value = (cell: string, type: Parameters<typeof convertCell>[1], zone?: string) => {
  const r = convertCell(cell, type, zone);
  return r.ok ? r.value : `error: ${r.message}`;
};

describe('convertCell', () => {
  it('reads booleans in every accepted spelling, case-insensitively, and refuses others', () => {
    for (const t of ['true', 'TRUE', 'Yes', 'y', 'Y', '1']) expect(value(t, 'boolean')).toBe(true);
    for (const f of ['false', 'False', 'NO', 'n', '0']) expect(value(f, 'boolean')).toBe(false);
    for (const bad of ['2', 'ja', 't', 'yess']) expect(value(bad, 'boolean')).toMatch(/^error: is not a yes\/no value/);
  });

  it('keeps calendar dates and refuses impossible or other-format ones', () => {
    expect(value('1984-02-29', 'date')).toBe('1984-02-29');
    for (const bad of ['1985-02-29', '2024-13-01', '03/04/2024', '2024-3-4', '2024-03-04T00:00Z'])
      expect(value(bad, 'date')).toBe('error: is not a calendar date YYYY-MM-DD');
  });

  it('reads instants with a zone, epoch ms, and dates as local midnight in --time-zone', () => {
    expect(value('2025-03-04T09:30:00Z', 'instant')).toBe(Date.UTC(2025, 2, 4, 9, 30));
    expect(value('2025-03-04T09:30:00.5-05:00', 'instant')).toBe(Date.UTC(2025, 2, 4, 14, 30, 0, 500));
    expect(value('2025-03-04 09:30+0100', 'instant')).toBe(Date.UTC(2025, 2, 4, 8, 30));
    expect(value('2025-03-04T09:30:00.123456789+05', 'instant')).toBe(Date.UTC(2025, 2, 4, 4, 30, 0, 123));
    expect(value('1741080600000', 'instant')).toBe(1741080600000);
    // New York is UTC-5 in winter and UTC-4 after the March change.
    expect(value('2025-01-15', 'instant', 'America/New_York')).toBe(Date.UTC(2025, 0, 15, 5));
    expect(value('2025-07-15', 'instant', 'America/New_York')).toBe(Date.UTC(2025, 6, 15, 4));
  });

  it('refuses an instant without a zone, a date without --time-zone, and nonsense, without quoting it', () => {
    expect(value('2025-03-04T09:30:00', 'instant')).toMatch(/^error: has a time but no zone/);
    expect(value('2025-03-04', 'instant')).toMatch(/^error: is a date without a time: pass --time-zone/);
    expect(value('2025-02-30T10:00Z', 'instant')).toBe('error: is not a real date and time');
    expect(value('2025-02-30', 'instant', 'UTC')).toBe('error: is not a real calendar date');
    expect(value('next tuesday', 'instant')).toMatch(/^error: is not a time: use ISO-8601/);
    expect(value('99999999999999999', 'instant')).toMatch(/^error: is not a time/);
    expect(value('next tuesday', 'instant')).not.toContain('tuesday');
  });

  it('passes strings through', () => {
    expect(value('Ann', 'string')).toBe('Ann');
  });
});

describe('isTimeZone', () => {
  it('knows IANA zones and refuses misspellings', () => {
    expect(isTimeZone('America/Chicago')).toBe(true);
    expect(isTimeZone('America/Chicgo')).toBe(false);
  });
});
