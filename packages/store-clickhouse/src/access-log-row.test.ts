import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS, findColumnMismatch, rowFromRecord, type StoredRowText } from './access-log-row.js';
import { sampleEvent, sampleRecords } from './testing/sample-events.js';

const asStored = (row: ReturnType<typeof rowFromRecord>): StoredRowText =>
  Object.fromEntries(ACCESS_LOG_COLUMNS.map((c) => [c, String(row[c])])) as StoredRowText;

describe('rowFromRecord', () => {
  it('derives the query columns from eventJson; absent optional fields are empty', () => {
    const [record] = sampleRecords('log/a', 1, () =>
      sampleEvent(0, { occurredAt: 1_714_573_800_999, actor: { userId: 'u1', department: 'ED' } }),
    );
    expect(rowFromRecord(record!)).toEqual({
      log: 'log/a',
      idx: 0,
      source_offset: 100,
      event_id: 'evt-0',
      tenant: 'clinic-a',
      occurred_at: '2024-05-01 14:30:00',
      occurred_ms: 1_714_573_800_999,
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
      event_json: record!.eventJson,
      leaf_hash: record!.leafHash,
      chain: record!.chain,
    });
  });

  it('refuses records inconsistent with their event or malformed', () => {
    const [r] = sampleRecords('log/a', 1);
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
    for (const bad of cases)
      expect(() => rowFromRecord(bad)).toThrow(expect.objectContaining({ code: 'STORE_INVALID_RECORD' }));
    const [late] = sampleRecords('log/a', 1, () => sampleEvent(0, { occurredAt: 2 ** 32 * 1000 }));
    expect(() => rowFromRecord(late!)).toThrow(expect.objectContaining({ code: 'STORE_INVALID_RECORD' }));
  });

  it('never puts event contents into its error messages', () => {
    const [r] = sampleRecords('log/a', 1, () => sampleEvent(0, { patient: { id: 'SECRET-MRN' } }));
    try {
      rowFromRecord({ ...r!, tenant: 'other' });
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('SECRET-MRN');
    }
  });
});

describe('findColumnMismatch', () => {
  it('is silent for an untouched row and names the first tampered column', () => {
    const [r] = sampleRecords('log/a', 1);
    const stored = asStored(rowFromRecord(r!));
    // DateTime comes back as text in UTC, exactly as inserted.
    expect(findColumnMismatch(stored)).toBeUndefined();
    expect(findColumnMismatch({ ...stored, patient_id: 'patient-9' })).toBe('patient_id');
    expect(findColumnMismatch({ ...stored, occurred_at: '2024-05-01 14:30:01' })).toBe('occurred_at');
    expect(findColumnMismatch({ ...stored, occurred_ms: '1' })).toBe('occurred_ms');
    expect(findColumnMismatch({ ...stored, user_role: 'admin' })).toBe('user_role');
    expect(findColumnMismatch({ ...stored, event_json: 'not json' })).toBe('event_json');
  });
});
