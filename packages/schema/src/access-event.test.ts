import { describe, expect, it } from 'vitest';
import { AccessEventSchema, safeParseSealedAccessEvent } from './access-event.js';
import { parseIngestEvent, type IngestContext } from './ingest-event.js';

const RECEIVED = Date.UTC(2024, 4, 1, 12);
const CTX: IngestContext = Object.freeze({
  tenant: 'clinic-a',
  sourceSystem: 'ehr-test',
  receivedAt: RECEIVED,
  maxPastMs: 86_400_000,
  maxFutureMs: 0,
});

/** A posted login, which concerns no patient and so names none. */
const login = {
  eventId: 'e-login',
  occurredAt: '2024-05-01T11:00:00Z',
  actor: { userId: 'u1' },
  action: 'login',
  resource: { type: 'Session' },
  outcome: 'success',
};
const stored = (posted: Record<string, unknown>) => ({
  ...posted,
  tenant: 'clinic-a',
  occurredAt: RECEIVED - 3_600_000,
  receivedAt: RECEIVED,
  source: { system: 'ehr-test' },
});

describe('patient is optional on a login and required on every other action', () => {
  it('accepts a login without a patient, and stores none', () => {
    const result = parseIngestEvent(login, CTX);
    expect(result).toEqual({ ok: true, event: stored(login) });
    expect(result.ok && 'patient' in result.event).toBe(false);
    expect(AccessEventSchema.safeParse(stored(login)).success).toBe(true);
    const sealed = safeParseSealedAccessEvent(stored(login));
    expect(sealed.success && sealed.data.patient).toBeUndefined();
  });

  it('accepts a login that names a patient (a sign-in from a patient context)', () => {
    const posted = { ...login, patient: { id: 'p1' } };
    expect(parseIngestEvent(posted, CTX)).toMatchObject({ ok: true, event: { patient: { id: 'p1' } } });
    expect(AccessEventSchema.safeParse(stored(posted)).success).toBe(true);
  });

  it.each(['view', 'create', 'update', 'delete', 'print', 'export', 'query', 'break_glass'])(
    'rejects a %s without a patient, naming the field',
    (action) => {
      const posted = { ...login, action, ...(action === 'break_glass' ? { reason: 'emergency' } : {}) };
      expect(parseIngestEvent(posted, CTX)).toEqual({
        ok: false,
        issues: [{ path: 'patient', message: 'patient is required unless action is login', kind: 'invalid' }],
      });
      const full = AccessEventSchema.safeParse(stored(posted));
      expect(full.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['patient', 'patient is required unless action is login'],
      ]);
    },
  );

  it('reports a missing patient together with the other problems of the event', () => {
    const result = parseIngestEvent({ ...login, action: 'view', actor: {}, extra: 1 }, CTX);
    expect(result.ok ? [] : result.issues.map((i) => i.path).sort()).toEqual(['actor.userId', 'extra', 'patient']);
    const noAction: Record<string, unknown> = { ...login };
    delete noAction.action;
    const missing = parseIngestEvent(noAction, CTX);
    expect(missing).toMatchObject({
      ok: false,
      issues: [{ path: 'action' }, { path: 'patient', message: 'patient is required unless action is login' }],
    });
  });

  it('still checks a patient that is present, on a login too', () => {
    expect(parseIngestEvent({ ...login, patient: { id: '' } }, CTX)).toEqual({
      ok: false,
      issues: [{ path: 'patient.id', message: 'patient.id must not be empty', kind: 'invalid' }],
    });
    expect(parseIngestEvent({ ...login, patient: {} }, CTX)).toMatchObject({
      ok: false,
      issues: [{ path: 'patient.id', message: 'patient.id is required' }],
    });
    expect(parseIngestEvent({ ...login, patient: null }, CTX)).toMatchObject({
      ok: false,
      issues: [{ path: 'patient' }],
    });
  });
});
