import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CASE_EVENT_KINDS, compareCaseEvents, type CaseEvent, type CaseStore } from '@phi-audit/rules';

/** One opened store under test. */
export interface OpenedCaseStore {
  store: CaseStore;
  /**
   * What an attacker with the storage could do, bypassing the store: the case's stored row(s)
   * get `body` as their body (SQLite: an UPDATE; ClickHouse, whose ALTER UPDATE is asynchronous:
   * a forged row beside them with the case's tenant and id).
   */
  tamperCaseBody(tenant: string, caseId: string, body: string): Promise<void>;
  /** Closes the store and releases what open() created. */
  close(): Promise<void>;
}

export interface CaseStoreHarness {
  /** Opens a fresh, empty store. */
  open(): Promise<OpenedCaseStore>;
}

const A = 'clinic-a';
const B = 'clinic-b';
const T0 = 1_773_200_000_000;
const ALERT_1 = 'a'.repeat(64);
const ALERT_2 = 'b'.repeat(64);

type Over = { tenant?: string; caseId?: string; eventId?: string; at?: number; by?: string };

function base(o: Over) {
  return {
    tenant: o.tenant ?? A,
    caseId: o.caseId ?? randomUUID(),
    eventId: o.eventId ?? randomUUID(),
    at: o.at ?? T0,
    by: o.by ?? 'privacy.officer',
  };
}

const opened = (o: Over = {}): CaseEvent => ({
  ...base(o),
  kind: 'opened',
  title: 'Snooping on a coworker',
  summary: 'Two after-hours views of a colleague’s chart.',
  alertIds: [ALERT_1],
  discoveredOn: '2026-03-11',
});
const note = (o: Over, text = 'Called the user’s manager.'): CaseEvent => ({ ...base(o), kind: 'note', text });

/** One event of every kind for one case, `at` one second apart, in kind order. */
function everyKind(caseId: string, tenant = A): CaseEvent[] {
  const at = (i: number) => T0 + i * 1_000;
  const level = { level: 'medium' as const, notes: 'Demographics and one diagnosis.' };
  const events: CaseEvent[] = [
    opened({ tenant, caseId, at: at(0) }),
    note({ tenant, caseId, at: at(1) }, 'First interview done; quotes "x" \\ {x:String} 😀 and\nnew lines.'),
    { ...base({ tenant, caseId, at: at(2) }), kind: 'status', status: 'investigating', reason: 'Interviews due.' },
    { ...base({ tenant, caseId, at: at(3) }), kind: 'alerts_linked', alertIds: [ALERT_2, ALERT_1] },
    {
      ...base({ tenant, caseId, at: at(4) }),
      kind: 'assessment',
      factors: {
        natureAndExtent: level,
        unauthorizedPerson: { level: 'high', notes: 'A workforce member without a need.' },
        acquiredOrViewed: { level: 'high', notes: 'Viewed, per the access log.' },
        mitigation: { level: 'low', notes: 'Attestation signed.' },
      },
      conclusion: 'breach',
      rationale: 'Viewed without a need; notification required.',
    },
    {
      ...base({ tenant, caseId, at: at(5) }),
      kind: 'breach_facts',
      discoveredOn: '2026-03-11',
      affectedIndividuals: 1,
      reason: 'One patient.',
    },
    {
      ...base({ tenant, caseId, at: at(6) }),
      kind: 'breach_facts',
      discoveredOn: '2026-03-10',
      affectedIndividuals: 640,
      largestJurisdictionCount: 520,
      reason: 'Export found later.',
    },
  ];
  expect(new Set(events.map((e) => e.kind))).toEqual(new Set(CASE_EVENT_KINDS));
  return events;
}

/** A UUID whose last group is `n`: ordered by n among ids of the same prefix. */
const orderedId = (n: number) => `3f1d2c4b-5a69-4788-9a0b-${n.toString(16).padStart(12, '0')}`;

/**
 * The behaviour every CaseStore adapter must share (SQLite and ClickHouse run the same tests):
 * events round-trip whole, come back in (at, eventId) order, an append is all or nothing, only
 * names opened cases of its tenant, never reuses a caseId or eventId, is validated naming the
 * field, tenants never see each other's cases, and a tampered row fails the read.
 */
export function describeCaseStoreConformance(name: string, harness: CaseStoreHarness): void {
  describe(`CaseStore conformance: ${name}`, () => {
    let h: OpenedCaseStore;
    beforeEach(async () => {
      h = await harness.open();
    });
    afterEach(async () => {
      await h?.close();
    });

    it('every event kind round-trips whole, one call each; an unknown case reads as []', async () => {
      const { store } = h;
      const caseId = randomUUID();
      const events = everyKind(caseId);
      for (const e of events) await store.appendCaseEvents([e]);
      expect(await store.caseEvents(A, caseId)).toEqual(events);
      expect(await store.tenantCaseEvents(A)).toEqual(events);
      expect(await store.caseEvents(A, randomUUID())).toEqual([]);
      await store.appendCaseEvents([]);
      expect(await store.tenantCaseEvents(A)).toEqual(events);
    });

    it('opens a case and adds to it in the same call', async () => {
      const { store } = h;
      const caseId = randomUUID();
      const events = everyKind(caseId);
      await store.appendCaseEvents(events);
      expect(await store.caseEvents(A, caseId)).toEqual(events);
    });

    it('returns events by at, then eventId, whatever order they were appended in', async () => {
      const { store } = h;
      const caseId = orderedId(0);
      const open = opened({ caseId, eventId: orderedId(9), at: T0 + 5_000 });
      const early = note({ caseId, eventId: orderedId(8), at: T0 });
      const tieHigh = note({ caseId, eventId: orderedId(3), at: T0 + 7_000 });
      const tieLow = note({ caseId, eventId: orderedId(2), at: T0 + 7_000 });
      const tieUpper = note({ caseId, eventId: orderedId(0xa), at: T0 + 7_000 });
      await store.appendCaseEvents([open, tieHigh]);
      await store.appendCaseEvents([tieUpper, early, tieLow]);
      const expected = [early, open, tieLow, tieHigh, tieUpper];
      expect([...expected].sort(compareCaseEvents)).toEqual(expected);
      expect(await store.caseEvents(A, caseId)).toEqual(expected);
      expect(await store.tenantCaseEvents(A)).toEqual(expected);
    });

    it('an event of an unknown case is STORE_UNKNOWN_CASE, and nothing of its call is stored', async () => {
      const { store } = h;
      const caseId = randomUUID();
      const open = opened({ caseId });
      await store.appendCaseEvents([open]);
      const unknown = randomUUID();
      await expect(store.appendCaseEvents([note({ caseId: unknown })])).rejects.toMatchObject({
        code: 'STORE_UNKNOWN_CASE',
      });
      // A valid note beside one on an unknown case: neither is stored.
      await expect(store.appendCaseEvents([note({ caseId }), note({ caseId: unknown })])).rejects.toMatchObject({
        code: 'STORE_UNKNOWN_CASE',
      });
      // "Opened earlier in the same call" means earlier in the list: a note before its opening is refused.
      const later = randomUUID();
      await expect(store.appendCaseEvents([note({ caseId: later }), opened({ caseId: later })])).rejects.toMatchObject({
        code: 'STORE_UNKNOWN_CASE',
      });
      // A valid opening and note beside an invalid event: the whole call is refused.
      const third = randomUUID();
      await expect(
        store.appendCaseEvents([opened({ caseId: third }), note({ caseId }), note({ caseId }, 'no')]),
      ).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      expect(await store.tenantCaseEvents(A)).toEqual([open]);
      expect(await store.caseEvents(A, later)).toEqual([]);
    });

    it('a reused caseId (opened again) or eventId is STORE_CASE_EXISTS, and nothing of its call is stored', async () => {
      const { store } = h;
      const caseId = randomUUID();
      const open = opened({ caseId });
      const first = note({ caseId, at: T0 + 1 });
      await store.appendCaseEvents([open, first]);
      const fresh = randomUUID();
      const refused: CaseEvent[][] = [
        [opened({ caseId })],
        [opened({ caseId: fresh }), opened({ caseId })],
        [note({ caseId, eventId: first.eventId }, 'A different note, same id.')],
        [note({ caseId }), note({ caseId, eventId: first.eventId, at: T0 + 2 }, 'The same id under another text.')],
        // Two events of one call with one eventId.
        [opened({ caseId: fresh, eventId: orderedId(1) }), note({ caseId: fresh, eventId: orderedId(1) })],
        [opened({ caseId: fresh }), opened({ caseId: fresh })],
        // An opening whose eventId is one already stored.
        [opened({ caseId: fresh, eventId: open.eventId })],
      ];
      for (const call of refused) {
        await expect(store.appendCaseEvents(call)).rejects.toMatchObject({ code: 'STORE_CASE_EXISTS' });
      }
      expect(await store.tenantCaseEvents(A)).toEqual([open, first]);
    });

    it('an invalid event is STORE_INVALID_VALUE naming its position and field; nothing is stored', async () => {
      const { store } = h;
      const caseId = randomUUID();
      await store.appendCaseEvents([opened({ caseId })]);
      const before = await store.tenantCaseEvents(A);
      const good = note({ caseId });
      const cases: [unknown, RegExp][] = [
        [{ ...note({ caseId }), caseId: 'not-a-uuid' }, /case event 1 is invalid: caseId[.:]/],
        [{ ...note({ caseId }), eventId: '1234' }, /case event 1 is invalid: eventId[.:]/],
        [note({ caseId }, '  a '), /case event 1 is invalid: text[.:]/],
        [{ ...opened(), discoveredOn: '2026-02-30' }, /case event 1 is invalid: discoveredOn[.:]/],
        [{ ...opened(), discoveredOn: '11/03/2026' }, /case event 1 is invalid: discoveredOn[.:]/],
        [{ ...opened(), alertIds: ['A'.repeat(64)] }, /case event 1 is invalid: alertIds[.:]/],
        [{ ...note({ caseId }), at: -1 }, /case event 1 is invalid: at[.:]/],
        [{ ...note({ caseId }), by: '' }, /case event 1 is invalid: by[.:]/],
        [{ ...note({ caseId }), extra: 1 }, /case event 1 /],
        [{ ...note({ caseId }), kind: 'deleted' }, /case event 1 is invalid: kind[.:]/],
        [{ ...note({ caseId }), text: 'lone \ud800 surrogate' }, /case event 1 /],
      ];
      for (const [bad, message] of cases) {
        const call = store.appendCaseEvents([good, bad as CaseEvent]);
        await expect(call).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
        await expect(call).rejects.toThrow(message);
      }
      await expect(store.appendCaseEvents('x' as unknown as CaseEvent[])).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      expect(await store.tenantCaseEvents(A)).toEqual(before);
    });

    it('tenants never see each other’s cases and cannot add to them', async () => {
      const { store } = h;
      const caseId = randomUUID();
      const events = everyKind(caseId);
      await store.appendCaseEvents(events);
      expect(await store.tenantCaseEvents(B)).toEqual([]);
      expect(await store.caseEvents(B, caseId)).toEqual([]);
      await expect(store.appendCaseEvents([note({ tenant: B, caseId })])).rejects.toMatchObject({
        code: 'STORE_UNKNOWN_CASE',
      });
      // The ids are the tenant's: B may open a case under the same caseId without touching A's.
      const own = opened({ tenant: B, caseId, at: T0 + 99_000 });
      await store.appendCaseEvents([own]);
      expect(await store.caseEvents(B, caseId)).toEqual([own]);
      expect(await store.caseEvents(A, caseId)).toEqual(events);
      expect(await store.tenantCaseEvents(A)).toEqual(events);
    });

    it('tenantCaseEvents returns every case of the tenant, interleaved by (at, eventId)', async () => {
      const { store } = h;
      const x = randomUUID();
      const y = randomUUID();
      const x0 = opened({ caseId: x, at: T0 });
      const y0 = opened({ caseId: y, at: T0 + 10 });
      const x1 = note({ caseId: x, at: T0 + 20 });
      const y1 = { ...base({ caseId: y, at: T0 + 30 }), kind: 'status', status: 'closed', reason: 'No access found.' };
      const x2 = note({ caseId: x, at: T0 + 40 });
      await store.appendCaseEvents([y0, x0]);
      await store.appendCaseEvents([x2, y1 as CaseEvent, x1]);
      await store.appendCaseEvents([opened({ tenant: B, at: T0 + 25 })]);
      expect(await store.tenantCaseEvents(A)).toEqual([x0, y0, x1, y1, x2]);
      expect(await store.caseEvents(A, x)).toEqual([x0, x1, x2]);
      expect(await store.caseEvents(A, y)).toEqual([y0, y1]);
    });

    it('a tampered stored row fails the reads with STORE_CORRUPT_DATA, never skipped', async () => {
      const { store } = h;
      const caseId = randomUUID();
      const events = everyKind(caseId);
      await store.appendCaseEvents(events);
      const other = randomUUID();
      await store.appendCaseEvents([opened({ caseId: other })]);
      await h.tamperCaseBody(A, caseId, '{"kind": "note", garbage');
      await expect(store.caseEvents(A, caseId)).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
      await expect(store.tenantCaseEvents(A)).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
      // Valid JSON of a valid event, but not the case its row is stored under.
      await h.tamperCaseBody(A, other, JSON.stringify(note({ caseId: randomUUID() })));
      await expect(store.caseEvents(A, other)).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
      // The other tenant's reads do not touch A's rows.
      expect(await store.tenantCaseEvents(B)).toEqual([]);
    });
  });
}
