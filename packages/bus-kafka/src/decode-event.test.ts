import { describe, expect, it } from 'vitest';
import { decodeEvent } from './decode-event.js';

const event = {
  eventId: 'e-1',
  tenant: 'clinic-a',
  occurredAt: 1_700_000_000_000,
  receivedAt: 1_700_000_000_500,
  source: { system: 'ehr' },
  actor: { userId: 'u-1' },
  patient: { id: 'P-SECRET-42' },
  action: 'view',
  resource: { type: 'Patient' },
  outcome: 'success',
} as const;

describe('decodeEvent', () => {
  it('accepts a canonical event', () => {
    const r = decodeEvent(Buffer.from(JSON.stringify(event)));
    expect(r).toEqual({ ok: true, event });
  });

  it('rejects bytes that are not UTF-8, not JSON, empty, or not an AccessEvent, naming the problem without values', () => {
    expect(decodeEvent(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({ ok: false, problem: { kind: 'not_utf8' } });
    expect(decodeEvent(Buffer.from('{"eventId":'))).toMatchObject({ ok: false, problem: { kind: 'not_json' } });
    expect(decodeEvent(Buffer.alloc(0))).toMatchObject({
      ok: false,
      problem: { kind: 'not_json', detail: 'message value is empty' },
    });
    const bad = decodeEvent(
      Buffer.from(JSON.stringify({ ...event, patient: { id: 'P-SECRET-42', name: 'Jane Roe' }, action: 'peek' })),
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problem.kind).toBe('invalid_event');
    expect(bad.problem.detail).toContain('patient.name');
    expect(bad.problem.detail).toContain('action');
    expect(bad.problem.detail).not.toContain('Jane Roe');
    expect(bad.problem.detail).not.toContain('P-SECRET-42');
  });

  it('decides the same way every time (replays reject the same messages)', () => {
    const bytes = Buffer.from(JSON.stringify({ ...event, occurredAt: 1e400 }).replace('null', '1e400'));
    expect(decodeEvent(bytes)).toMatchObject({ ok: false, problem: { kind: 'invalid_event' } });
    expect(decodeEvent(bytes)).toEqual(decodeEvent(Buffer.from(bytes)));
  });
});
