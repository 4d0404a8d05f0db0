import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyHead, verifyLog, type LedgerRecord } from '@phi-audit/ledger';
import type { ConformanceHarness, OpenedStore } from './conformance-harness.js';
import { buildRecords, collect, conformanceEvent, TRICKY, uniqueName } from './conformance-records.js';
import { describeAccessQueryConformance } from './access-query-conformance.js';
import { describeTamperConformance } from './tamper-conformance.js';

export type { ConformanceHarness, ConformanceStore, OpenedStore, TamperHooks } from './conformance-harness.js';

/**
 * The behaviour every LedgerStore adapter must share (SQLite and ClickHouse run the same
 * tests): heads, resume after restart, chain continuity, scans, the duplicate window,
 * all-or-nothing appends, the console's access queries, and tamper evidence at the right
 * index. Every test uses its own logs and tenants, so a harness may share one database.
 */
export function describeLedgerStoreConformance(name: string, harness: ConformanceHarness): void {
  describe(`LedgerStore conformance: ${name}`, () => {
    let h: OpenedStore;
    beforeEach(async () => {
      h = await harness.open();
    });
    afterEach(async () => {
      await h?.close();
    });

    it('append → head, heads, logs and countsByTenant describe exactly what was stored', async () => {
      const tenant = uniqueName('t');
      const a = uniqueName('phi-audit/conf-heads/a');
      const b = uniqueName('phi-audit/conf-heads/b');
      expect(await h.store.head(a)).toEqual(emptyHead(a));
      const ra = buildRecords(a, 12, (i) => conformanceEvent(i, tenant));
      const rb = buildRecords(b, 5, (i) => conformanceEvent(100 + i, tenant));
      await h.store.append(ra);
      await h.store.append(rb);
      const headOf = (r: LedgerRecord[]) => {
        const last = r.at(-1)!;
        return { origin: last.origin, size: r.length, chain: last.chain, lastSourceOffset: last.sourceOffset };
      };
      expect(await h.store.head(a)).toEqual(headOf(ra));
      expect(await h.store.head(b)).toEqual(headOf(rb));
      const heads = (await h.store.heads()).filter((x) => x.origin === a || x.origin === b);
      expect(heads).toEqual([headOf(ra), headOf(rb)].sort((x, y) => (x.origin < y.origin ? -1 : 1)));
      expect(await h.store.append([])).toBeUndefined();
      expect(await h.store.head(a)).toEqual(headOf(ra));
    });

    it('scan returns every field exactly as appended, in ascending index order, from fromIndex', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName(`phi-audit/conf-scan/${TRICKY}`);
      const tricky = (i: number) =>
        conformanceEvent(i, tenant, {
          eventId: `evt-${i}-${TRICKY}`,
          patient: { id: `MRN ${TRICKY} ${i % 2}` },
          actor:
            i % 2 === 0 ? { userId: `o'neil ${TRICKY}`, role: 'physician', workstation: 'ws\t1' } : { userId: 'x' },
        });
      // 2,500 rows inserted out of order: order is the store's doing, and paging boundaries are crossed.
      const records = buildRecords(origin, 2_500, tricky);
      await h.store.append(records.slice(1_200));
      await h.store.append(records.slice(0, 1_200));
      const scanned = await collect(h.store.scan(origin));
      expect(scanned.length).toBe(records.length);
      expect(scanned).toEqual(records);
      expect((await collect(h.store.scan(origin, { fromIndex: 2_495 }))).map((r) => r.index)).toEqual([
        2_495, 2_496, 2_497, 2_498, 2_499,
      ]);
      expect(await collect(h.store.scan(origin, { fromIndex: 2_500 }))).toEqual([]);
      expect(await collect(h.store.scan(uniqueName('phi-audit/conf-scan/none')))).toEqual([]);
    });

    it('a writer resumes after a restart from the head the reopened store reports', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-reopen');
      const first = buildRecords(origin, 30, (i) => conformanceEvent(i, tenant));
      await h.store.append(first);
      const before = await h.store.head(origin);
      const store = await h.reopen();
      const head = await store.head(origin);
      expect(head).toEqual(before);
      await store.append(buildRecords(origin, 5, (i) => conformanceEvent(i, tenant), head));
      const verdict = await verifyLog({ origin, records: store.scan(origin) });
      expect(verdict).toMatchObject({ ok: true, records: 35 });
      expect(await store.head(origin)).toEqual(verdict.head);
    });

    it('the chain continues across appends built from the stored head', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-chain');
      let expected: LedgerRecord[] = [];
      for (const size of [1, 7, 1, 40]) {
        const batch = buildRecords(origin, size, (i) => conformanceEvent(i, tenant), await h.store.head(origin));
        await h.store.append(batch);
        expected = [...expected, ...batch];
      }
      const verdict = await verifyLog({ origin, records: h.store.scan(origin) });
      expect(verdict).toMatchObject({ ok: true, records: 49 });
      expect(verdict.head.chain).toBe(expected.at(-1)!.chain);
      expect(await collect(h.store.scan(origin))).toEqual(expected);
    });

    it('recentKeys returns the keys of the last `count` records of one log, ascending', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-recent');
      const other = uniqueName('phi-audit/conf-recent-other');
      const keyed = (i: number) =>
        conformanceEvent(i, tenant, { eventId: `evt-${i}-${TRICKY}`, source: { system: `ehr\t${i % 2}` } });
      expect(await h.store.recentKeys(origin, 10)).toEqual([]);
      const records = buildRecords(origin, 40, keyed);
      await h.store.append(records.slice(20));
      await h.store.append(buildRecords(other, 30, (i) => conformanceEvent(i, tenant)));
      await h.store.append(records.slice(0, 20));
      const keyOf = (i: number) => {
        const e = keyed(i);
        return { index: i, tenant, sourceSystem: e.source.system, eventId: e.eventId };
      };
      const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => keyOf(from + k));
      expect(await h.store.recentKeys(origin, 10)).toEqual(range(30, 40));
      expect(await h.store.recentKeys(origin, 1)).toEqual(range(39, 40));
      expect(await h.store.recentKeys(origin, 40)).toEqual(range(0, 40));
      expect(await h.store.recentKeys(origin, 100_000)).toEqual(range(0, 40));
      expect(await h.store.recentKeys(origin, 0)).toEqual([]);
      expect((await h.store.recentKeys(other, 3)).map((k) => k.index)).toEqual([27, 28, 29]);
      await h.store.append(buildRecords(origin, 1, keyed, await h.store.head(origin)));
      expect(await h.store.recentKeys(origin, 3)).toEqual(range(38, 41));
      for (const bad of [-1, 1.5, Number.NaN]) {
        await expect(h.store.recentKeys(origin, bad)).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      }
    });

    it('a failed append stores nothing and leaves the head; replaying the batch stores it exactly once', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-atomic');
      const start = buildRecords(origin, 10, (i) => conformanceEvent(i, tenant));
      await h.store.append(start);
      const headBefore = await h.store.head(origin);
      const batch = buildRecords(origin, 50, (i) => conformanceEvent(i, tenant), headBefore);
      const broken = [...batch.slice(0, 49), { ...batch[49]!, tenant: uniqueName('other') }];
      await expect(h.store.append(broken)).rejects.toMatchObject({ code: 'STORE_INVALID_RECORD' });
      const badHash = [...batch.slice(0, 49), { ...batch[49]!, leafHash: batch[49]!.leafHash.toUpperCase() }];
      await expect(h.store.append(badHash)).rejects.toMatchObject({ code: 'STORE_INVALID_RECORD' });
      expect(await h.store.head(origin)).toEqual(headBefore);
      expect(await collect(h.store.scan(origin))).toEqual(start);
      expect(await h.store.recentKeys(origin, 100)).toHaveLength(10);

      await h.store.append(batch);
      expect(await collect(h.store.scan(origin))).toEqual([...start, ...batch]);
      expect(await verifyLog({ origin, records: h.store.scan(origin) })).toMatchObject({ ok: true, records: 60 });
      expect((await h.store.heads()).filter((x) => x.origin === origin)).toEqual([await h.store.head(origin)]);
    });

    it('a clean log verifies and reports no column mismatch', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-clean');
      await h.store.append(buildRecords(origin, 100, (i) => conformanceEvent(i, tenant)));
      const rows = await collect(h.store.scan(origin));
      expect(rows.filter((r) => r.columnMismatch !== undefined)).toEqual([]);
      const verdict = await verifyLog({ origin, records: h.store.scan(origin) });
      expect(verdict).toMatchObject({ ok: true, records: 100, head: await h.store.head(origin) });
    });

    it('stores a login without a patient: it scans and verifies, and no per-patient query returns it', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-login');
      const event = (i: number) => {
        if (i !== 1) return conformanceEvent(i, tenant, { patient: { id: 'p0' } });
        const { patient: _none, ...login } = conformanceEvent(i, tenant, {
          action: 'login',
          resource: { type: 'Session' },
        });
        return login;
      };
      const records = buildRecords(origin, 3, event);
      expect(JSON.parse(records[1]!.eventJson)).not.toHaveProperty('patient');
      await h.store.append(records);
      const rows = await collect(h.store.scan(origin));
      expect(rows).toEqual(records);
      expect(rows.filter((r) => r.columnMismatch !== undefined)).toEqual([]);
      expect(await verifyLog({ origin, records: h.store.scan(origin) })).toMatchObject({ ok: true, records: 3 });
      const patientRows = await h.store.accessesByPatient({ tenant, patientId: 'p0', limit: 10 });
      expect(patientRows.map((r) => r.eventId).sort()).toEqual(['evt-0', 'evt-2']);
      const userRows = await h.store.accessesByUser({ tenant, userId: 'user-1', limit: 10 });
      expect(userRows).toHaveLength(1);
      expect(userRows[0]).toMatchObject({ eventId: 'evt-1', action: 'login' });
      expect(userRows[0]).not.toHaveProperty('patientId');
    });

    describeAccessQueryConformance(() => h);
    describeTamperConformance(() => h);
  });
}
