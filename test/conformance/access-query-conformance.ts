import { describe, expect, it } from 'vitest';
import { MAX_ACCESS_QUERY_LIMIT } from '@phi-audit/ledger';
import type { OpenedStore } from './conformance-harness.js';
import { buildRecords, conformanceEvent, uniqueName } from './conformance-records.js';

const T0 = 1_700_000_000_000;

/** Per-patient and per-user queries: tenant isolation, [from, to) windows, limit, newest-first order. */
export function describeAccessQueryConformance(current: () => OpenedStore): void {
  describe('access queries', () => {
    /** 12 events, one a minute: users u0..u2, patients p0/p1, every 4th in tenant b, nurse role on even i. */
    async function seed() {
      const { store } = current();
      const a = uniqueName('ta');
      const b = uniqueName('tb');
      const origin = uniqueName('phi-audit/conf-queries');
      const event = (i: number) =>
        conformanceEvent(i, i % 4 === 3 ? b : a, {
          eventId: `q-${i}`,
          occurredAt: T0 + i * 60_000,
          actor: { userId: `u${i % 3}`, ...(i % 2 === 0 ? { role: 'nurse', workstation: 'ws-1' } : {}) },
          patient: { id: `p${i % 2}` },
        });
      const records = buildRecords(origin, 12, event);
      await store.append(records);
      return { store, a, b, origin, records, event };
    }

    it('accessesByPatient: that patient in that tenant, newest first, within [from, to), limited', async () => {
      const { store, a, b, origin, records, event } = await seed();
      const all = await store.accessesByPatient({ tenant: a, patientId: 'p0', limit: 100 });
      expect(all.map((r) => r.eventId)).toEqual(['q-10', 'q-8', 'q-6', 'q-4', 'q-2', 'q-0']);
      expect(all[0]).toEqual({
        origin,
        index: 10,
        sourceOffset: records[10]!.sourceOffset,
        eventId: 'q-10',
        tenant: a,
        occurredAt: T0 + 600_000,
        receivedAt: event(10).receivedAt,
        sourceSystem: 'ehr',
        userId: 'u1',
        userRole: 'nurse',
        workstation: 'ws-1',
        patientId: 'p0',
        action: 'view',
        resourceType: 'Encounter',
        outcome: 'success',
      });
      const window = await store.accessesByPatient({
        tenant: a,
        patientId: 'p0',
        from: T0 + 120_000,
        to: T0 + 480_000,
        limit: 100,
      });
      expect(window.map((r) => r.eventId)).toEqual(['q-6', 'q-4', 'q-2']);
      const limited = await store.accessesByPatient({ tenant: a, patientId: 'p0', limit: 2 });
      expect(limited.map((r) => r.eventId)).toEqual(['q-10', 'q-8']);
      const other = await store.accessesByPatient({ tenant: b, patientId: 'p1', limit: 100 });
      expect(other.map((r) => r.eventId)).toEqual(['q-11', 'q-7', 'q-3']);
      expect(await store.accessesByPatient({ tenant: b, patientId: 'p0', limit: 100 })).toEqual([]);
    });

    it('accessesByUser: that user in that tenant, newest first; absent optional fields stay absent', async () => {
      const { store, a, b } = await seed();
      const rows = await store.accessesByUser({ tenant: a, userId: 'u1', limit: 100 });
      expect(rows.map((r) => r.eventId)).toEqual(['q-10', 'q-4', 'q-1']);
      const q1 = rows.find((r) => r.eventId === 'q-1')!;
      expect('userRole' in q1 || 'workstation' in q1 || 'userDepartment' in q1).toBe(false);
      expect(
        (await store.accessesByUser({ tenant: a, userId: 'u1', from: T0 + 60_000, to: T0 + 600_000, limit: 1 })).map(
          (r) => r.eventId,
        ),
      ).toEqual(['q-4']);
      expect((await store.accessesByUser({ tenant: b, userId: 'u1', limit: 100 })).map((r) => r.eventId)).toEqual([
        'q-7',
      ]);
    });

    it('orders equal event times by origin, then index', async () => {
      const { store } = current();
      const tenant = uniqueName('t');
      const [x, y] = [uniqueName('phi-audit/conf-ties-a'), uniqueName('phi-audit/conf-ties-b')].sort();
      const same = (i: number) => conformanceEvent(i, tenant, { occurredAt: T0, patient: { id: 'p' } });
      await store.append(buildRecords(y!, 2, same));
      await store.append(buildRecords(x!, 2, (i) => same(10 + i)));
      const rows = await store.accessesByPatient({ tenant, patientId: 'p', limit: 10 });
      expect(rows.map((r) => [r.origin, r.index])).toEqual([
        [x, 0],
        [x, 1],
        [y, 0],
        [y, 1],
      ]);
    });

    it('rejects malformed queries before they reach the database', async () => {
      const { store } = current();
      const bad = [
        () => store.accessesByUser({ tenant: 'clinic-a', userId: '', limit: 10 }),
        () => store.accessesByPatient({ tenant: 'clinic-a', patientId: 'p0', limit: 0 }),
        () => store.accessesByPatient({ tenant: 'clinic-a', patientId: 'p0', limit: MAX_ACCESS_QUERY_LIMIT + 1 }),
        () => store.accessesByPatient({ tenant: 'clinic-a', patientId: '\ud800', limit: 5 }),
        () => store.accessesByPatient({ tenant: 'clinic-a', patientId: 'p0', from: -1, limit: 5 }),
      ];
      for (const query of bad) await expect(query()).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
    });

    it('logs and countsByTenant count rows per log and per tenant', async () => {
      const { store, a, b, origin } = await seed();
      expect((await store.logs()).filter((l) => l.origin === origin)).toEqual([{ origin, records: 12 }]);
      const counts = (await store.countsByTenant()).filter((c) => c.tenant === a || c.tenant === b);
      expect(counts).toEqual([
        { tenant: a, records: 9 },
        { tenant: b, records: 3 },
      ]);
    });
  });
}
