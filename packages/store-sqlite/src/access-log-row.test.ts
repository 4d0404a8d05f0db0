import { describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_COLUMNS,
  deriveColumns,
  findColumnMismatch,
  rowFromRecord,
  storedRecordFromRawRow,
  storedRecordFromRow,
  type StoredRow,
} from './access-log-row.js';
import { sampleEvent, sampleRecords } from './testing/sample-records.js';

const stored = (i = 0): StoredRow => {
  const row = rowFromRecord(sampleRecords('log/a', i + 1, 0)[i]!);
  return Object.fromEntries(ACCESS_LOG_COLUMNS.map((c) => [c, row[c]])) as StoredRow;
};

describe('rowFromRecord', () => {
  it('derives the query columns from eventJson; absent optional fields are empty', () => {
    const [r] = sampleRecords('log/a', 1, 42, () => sampleEvent(0, { actor: { userId: 'u1', department: 'ED' } }));
    expect(rowFromRecord(r!)).toEqual({
      log: 'log/a',
      idx: 0,
      source_offset: 42,
      event_id: 'evt-0',
      tenant: 'clinic-a',
      occurred_ms: 1_714_573_800_000,
      received_ms: 1_714_573_900_000,
      source_system: 'ehr',
      user_id: 'u1',
      user_role: '',
      user_department: 'ED',
      workstation: '',
      patient_id: 'patient-0',
      action: 'view',
      resource_type: 'Encounter',
      outcome: 'success',
      event_json: r!.eventJson,
      leaf_hash: r!.leafHash,
      chain: r!.chain,
    });
  });

  it('given the columns derived from the event, writes the same row; a record of another event is still refused', () => {
    const event = sampleEvent(3, { actor: { userId: 'u9', role: 'nurse', workstation: 'ws-1' } });
    const [r] = sampleRecords('log/a', 1, 7, () => event);
    expect(rowFromRecord(r!, deriveColumns(event))).toEqual(rowFromRecord(r!));
    expect(() => rowFromRecord(r!, deriveColumns({ ...event, eventId: 'evt-other' }))).toThrow(/eventId differs/);
    expect(() => rowFromRecord(r!, deriveColumns({ ...event, tenant: 'clinic-b' }))).toThrow(/tenant differs/);
  });

  it('refuses malformed records without quoting event contents', () => {
    const [r] = sampleRecords('log/a', 1, 0, () => sampleEvent(0, { patient: { id: 'SECRET-MRN' } }));
    const cases = [
      { ...r!, tenant: 'other' },
      { ...r!, eventId: 'other' },
      { ...r!, eventJson: '{' },
      { ...r!, eventJson: '{"eventId":"evt-0"}' },
      { ...r!, leafHash: 'ab' },
      { ...r!, chain: r!.chain.toUpperCase() },
      { ...r!, index: -1 },
      { ...r!, sourceOffset: 1.5 },
      { ...r!, origin: '' },
    ];
    for (const bad of cases) {
      expect(() => rowFromRecord(bad)).toThrow(expect.objectContaining({ code: 'STORE_INVALID_RECORD' }));
      expect(() => rowFromRecord(bad)).not.toThrow(/SECRET-MRN/);
    }
  });
});

describe('findColumnMismatch', () => {
  it('is silent for an untouched row and names the first changed column, type changes included', () => {
    expect(findColumnMismatch(stored())).toBeUndefined();
    expect(findColumnMismatch({ ...stored(), patient_id: 'patient-9' })).toBe('patient_id');
    expect(findColumnMismatch({ ...stored(), occurred_ms: 1 })).toBe('occurred_ms');
    expect(findColumnMismatch({ ...stored(), occurred_ms: String(stored().occurred_ms) })).toBe('occurred_ms');
    expect(findColumnMismatch({ ...stored(), user_role: null })).toBe('user_role');
    expect(findColumnMismatch({ ...stored(), event_json: 'not json' })).toBe('event_json');
    expect(findColumnMismatch({ ...stored(), event_json: 7 })).toBe('event_json');
  });
});

describe('storedRecordFromRawRow', () => {
  const raw = (row: StoredRow): unknown[] => ['0', '1', ...ACCESS_LOG_COLUMNS.map((c) => row[c])];
  it('yields what storedRecordFromRow yields for the same row, columnMismatch included', () => {
    const login = rowFromRecord(
      sampleRecords('log/a', 1, 0, () => {
        const { patient: _none, ...event } = sampleEvent(0, { action: 'login', reason: 'said "hi"' });
        return event;
      })[0]!,
    );
    const rows: StoredRow[] = [
      stored(),
      stored(3),
      Object.fromEntries(ACCESS_LOG_COLUMNS.map((c) => [c, login[c]])) as StoredRow,
      { ...stored(), patient_id: 'patient-9' },
      { ...stored(), occurred_ms: String(stored().occurred_ms) },
      { ...stored(), user_role: null },
      { ...stored(), outcome: 'failure' },
      { ...stored(), event_json: 'not json' },
      { ...stored(), event_json: 7 },
      { ...stored(), event_json: ` ${String(stored().event_json)}` },
    ];
    const found = rows.map((row) => storedRecordFromRawRow(raw(row)));
    expect(found).toStrictEqual(rows.map((row) => storedRecordFromRow(row)));
    expect(found.map((r) => r.columnMismatch)).toEqual([
      undefined,
      undefined,
      undefined,
      'patient_id',
      'occurred_ms',
      'user_role',
      'outcome',
      'event_json',
      'event_json',
      undefined,
    ]);
  });
});
