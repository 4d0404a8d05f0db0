import { describe, expect, it } from 'vitest';
import { MAX_ACCESS_QUERY_LIMIT, MAX_ACCESS_VOLUME_BUCKETS } from '@phi-audit/ledger';
import type { OpenedStore } from './conformance-harness.js';
import { buildRecords, conformanceEvent, uniqueName } from './conformance-records.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A UTC midnight (2023-11-15T00:00:00Z): the start of an hour and of a day bucket. */
const D = 19_676 * DAY;

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

    describe('accessVolume', () => {
      /**
       * Tenant a: one event the millisecond before D, three in D's first hour (one exactly at D,
       * one failure, users u0 and u1), one failure exactly at D + 1 h, one at D + 5 h; tenant b:
       * one event inside D's first hour, which a never counts.
       */
      async function seedVolume() {
        const { store } = current();
        const a = uniqueName('va');
        const b = uniqueName('vb');
        const spec: [string, number, string, 'success' | 'failure'][] = [
          [a, D - 1, 'u0', 'success'],
          [a, D, 'u0', 'success'],
          [a, D + 1_000, 'u1', 'failure'],
          [a, D + HOUR - 1, 'u0', 'success'],
          [a, D + HOUR, 'u2', 'failure'],
          [a, D + 5 * HOUR + 5, 'u1', 'success'],
          [b, D + 10, 'u9', 'failure'],
        ];
        const records = buildRecords(uniqueName('phi-audit/conf-volume'), spec.length, (i) => {
          const [tenant, occurredAt, userId, outcome] = spec[i]!;
          return conformanceEvent(i, tenant, { eventId: `v-${i}`, occurredAt, actor: { userId }, outcome });
        });
        await store.append(records);
        return { store, a, b };
      }

      it('hour buckets: [from, to) with from rounded down to its bucket, only buckets with events, ascending', async () => {
        const { store, a } = await seedVolume();
        // From the middle of D's first hour: rounded down to D, so the event exactly at D counts.
        expect(await store.accessVolume({ tenant: a, from: D + HOUR / 2, to: D + 6 * HOUR, bucket: 'hour' })).toEqual([
          { start: D, events: 3, failures: 1, users: 2 },
          { start: D + HOUR, events: 1, failures: 1, users: 1 },
          { start: D + 5 * HOUR, events: 1, failures: 0, users: 1 },
        ]);
        // One millisecond before D: the previous hour is a bucket; `to` is exclusive (the event at D + 1 h is out).
        expect(await store.accessVolume({ tenant: a, from: D - 1, to: D + HOUR, bucket: 'hour' })).toEqual([
          { start: D - HOUR, events: 1, failures: 0, users: 1 },
          { start: D, events: 3, failures: 1, users: 2 },
        ]);
        expect(await store.accessVolume({ tenant: a, from: D + 2 * HOUR, to: D + 5 * HOUR, bucket: 'hour' })).toEqual(
          [],
        );
      });

      it('day buckets are UTC days; another tenant’s events are never counted', async () => {
        const { store, a, b } = await seedVolume();
        expect(await store.accessVolume({ tenant: a, from: D, to: D + DAY, bucket: 'day' })).toEqual([
          { start: D, events: 5, failures: 2, users: 3 },
        ]);
        expect(await store.accessVolume({ tenant: a, from: D - 1, to: D + 1, bucket: 'day' })).toEqual([
          { start: D - DAY, events: 1, failures: 0, users: 1 },
          { start: D, events: 1, failures: 0, users: 1 },
        ]);
        expect(await store.accessVolume({ tenant: b, from: D, to: D + DAY, bucket: 'hour' })).toEqual([
          { start: D, events: 1, failures: 1, users: 1 },
        ]);
        expect(await store.accessVolume({ tenant: uniqueName('none'), from: D, to: D + DAY, bucket: 'day' })).toEqual(
          [],
        );
      });

      it('refuses a malformed query with STORE_INVALID_VALUE naming the field', async () => {
        const { store } = current();
        const tenant = 'clinic-a';
        const bad: [() => Promise<unknown>, RegExp][] = [
          [() => store.accessVolume({ tenant, from: D, to: D, bucket: 'hour' }), /\bto\b/],
          [() => store.accessVolume({ tenant, from: D, to: D - 1, bucket: 'day' }), /\bto\b/],
          [
            () =>
              store.accessVolume({ tenant, from: D, to: D + (MAX_ACCESS_VOLUME_BUCKETS + 1) * HOUR, bucket: 'hour' }),
            /bucket/,
          ],
          [
            () => store.accessVolume({ tenant, from: 0, to: (MAX_ACCESS_VOLUME_BUCKETS + 1) * DAY, bucket: 'day' }),
            /bucket/,
          ],
          [() => store.accessVolume({ tenant, from: D, to: D + DAY, bucket: 'week' as 'day' }), /bucket/],
          [() => store.accessVolume({ tenant: '', from: D, to: D + DAY, bucket: 'day' }), /tenant/],
          [() => store.accessVolume({ tenant, from: -1, to: D, bucket: 'day' }), /from/],
          [() => store.accessVolume({ tenant, from: 0.5, to: D, bucket: 'day' }), /from/],
        ];
        for (const [query, field] of bad) {
          await expect(query()).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
          await expect(query()).rejects.toThrow(field);
        }
        // The largest window allowed is fine.
        expect(
          await store.accessVolume({ tenant, from: D, to: D + MAX_ACCESS_VOLUME_BUCKETS * HOUR, bucket: 'hour' }),
        ).toBeInstanceOf(Array);
      });
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
