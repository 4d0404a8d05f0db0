import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainBuilder, verifyLog, type StoredRecord } from '@phi-audit/ledger';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseLedgerStore, type ClickHouseLedgerStore } from './clickhouse-ledger-store.js';
import { rowFromRecord } from './access-log-row.js';
import { createAccessLogTable } from './statements.js';
import { isStoreError } from './errors.js';
import {
  adminClient,
  adminCommand,
  adminSelect,
  clickHouseUrl,
  dropDatabase,
  uniqueDatabase,
  waitForMutations,
} from './testing/clickhouse-test-database.js';
import { sampleEvent, sampleRecords } from './testing/sample-events.js';

const url = clickHouseUrl();

async function collect(it: AsyncIterable<StoredRecord>): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe.skipIf(url === undefined)('ClickHouse ledger store (real server)', () => {
  const db = uniqueDatabase('store');
  let admin: ClickHouseClient;
  let store: ClickHouseLedgerStore;

  beforeAll(async () => {
    admin = adminClient(url!);
    store = createClickHouseLedgerStore({ url: url!, database: db });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await dropDatabase(admin, db);
    await admin?.close();
  });

  it('migrate is idempotent: each migration recorded once, tables and view present', async () => {
    await store.migrate();
    await store.migrate();
    const applied = await adminSelect<{ version: number; n: string }>(
      admin,
      `SELECT version, toString(count()) AS n FROM ${db}.schema_migrations GROUP BY version`,
    );
    expect(applied.sort((a, b) => a.version - b.version)).toEqual([
      { version: 1, n: '1' },
      { version: 2, n: '1' },
      { version: 3, n: '1' },
      { version: 4, n: '1' },
      { version: 5, n: '1' },
    ]);
    const tables = await adminSelect<{ name: string; engine: string }>(
      admin,
      `SELECT name, engine FROM system.tables WHERE database = '${db}' ORDER BY name`,
    );
    expect(tables).toEqual([
      { name: 'access_log', engine: 'MergeTree' },
      { name: 'access_log_by_user', engine: 'MergeTree' },
      { name: 'access_log_by_user_mv', engine: 'MaterializedView' },
      { name: 'alert_decisions', engine: 'MergeTree' },
      { name: 'alerts', engine: 'ReplacingMergeTree' },
      { name: 'case_events', engine: 'MergeTree' },
      { name: 'checkpoints', engine: 'MergeTree' },
      { name: 'merkle_tiles', engine: 'ReplacingMergeTree' },
      { name: 'reference_loads', engine: 'MergeTree' },
      { name: 'reference_records', engine: 'MergeTree' },
      { name: 'schema_migrations', engine: 'MergeTree' },
    ]);
  });

  it('refuses a database that has migrations this build does not know', async () => {
    const other = uniqueDatabase('newer');
    const s = createClickHouseLedgerStore({ url: url!, database: other });
    try {
      await s.migrate();
      await adminCommand(
        admin,
        `INSERT INTO ${other}.schema_migrations (version, name, applied_at) VALUES (99, 'future', now())`,
      );
      await expect(s.migrate()).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
    } finally {
      await s.close();
      await dropDatabase(admin, other);
    }
  });

  it('append → head/heads/scan round-trips every field, and the log verifies', async () => {
    const origin = 'phi-audit/roundtrip/0';
    const tricky = (i: number) =>
      sampleEvent(i, {
        eventId: `evt-${i}-'q'\\{x:String}\u0000\n😀`,
        patient: { id: `MRN "${i % 2}" é` },
        actor:
          i % 2 === 0
            ? { userId: "o'neil", role: 'physician', department: 'ED', workstation: 'ws\t1' }
            : { userId: 'plain' },
      });
    const records = sampleRecords(origin, 25, tricky);
    expect(await store.head(origin)).toEqual({ origin, size: 0, chain: '0'.repeat(64), lastSourceOffset: -1 });
    await store.append(records.slice(0, 10));
    await store.append(records.slice(10));
    const last = records[24]!;
    expect(await store.head(origin)).toEqual({
      origin,
      size: 25,
      chain: last.chain,
      lastSourceOffset: last.sourceOffset,
    });
    expect((await store.heads()).find((h) => h.origin === origin)).toEqual({
      origin,
      size: 25,
      chain: last.chain,
      lastSourceOffset: last.sourceOffset,
    });
    const scanned = await collect(store.scan(origin));
    expect(scanned).toEqual(records);
    expect((await collect(store.scan(origin, { fromIndex: 20 }))).map((r) => r.index)).toEqual([20, 21, 22, 23, 24]);
    const verdict = await verifyLog({ origin, records: store.scan(origin) });
    expect(verdict.ok).toBe(true);
    expect(verdict.records).toBe(25);
    expect(await store.logs()).toContainEqual({ origin, records: 25 });
  });

  it('a store whose url names the database as its path uses that database', async () => {
    const s = createClickHouseLedgerStore({ url: `${url!.replace(/\/+$/, '')}/${db}` });
    try {
      expect(s.database).toBe(db);
      expect(await s.ping()).toBe(true);
      expect((await s.logs()).some((l) => l.origin === 'phi-audit/roundtrip/0')).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('append is all-or-nothing: a batch the server rejects at its last row leaves nothing', async () => {
    // A ledger table whose tenant column only admits 'clinic-a': the server accepts 4,999 rows
    // and fails on the 5,000th. Nothing of the batch may remain.
    const strict = uniqueDatabase('atomic');
    await adminCommand(admin, `CREATE DATABASE ${strict}`);
    await adminCommand(admin, createAccessLogTable(strict).replace('tenant String', "tenant Enum8('clinic-a' = 1)"));
    const s = createClickHouseLedgerStore({ url: url!, database: strict });
    try {
      const origin = 'phi-audit/atomic/0';
      const records = sampleRecords(origin, 5000, (i) =>
        sampleEvent(i, { tenant: i === 4999 ? 'clinic-b' : 'clinic-a' }),
      );
      const err = await s.append(records).catch((e: unknown) => e);
      expect(isStoreError(err, 'STORE_INSERT_FAILED')).toBe(true);
      const [row] = await adminSelect<{ n: string }>(admin, `SELECT toString(count()) AS n FROM ${strict}.access_log`);
      expect(row?.n).toBe('0');
      await s.append(records.slice(0, 4999));
      expect((await s.head(origin)).size).toBe(4999);
    } finally {
      await s.close();
      await dropDatabase(admin, strict);
    }
  });

  it('append rejects a malformed record before sending anything', async () => {
    const origin = 'phi-audit/invalid/0';
    const records = sampleRecords(origin, 3);
    const bad = [records[0]!, { ...records[1]!, tenant: 'someone-else' }, records[2]!];
    await expect(store.append(bad)).rejects.toMatchObject({ code: 'STORE_INVALID_RECORD' });
    await expect(
      store.append([{ ...records[0]!, leafHash: records[0]!.leafHash.toUpperCase() }]),
    ).rejects.toMatchObject({ code: 'STORE_INVALID_RECORD' });
    expect((await store.head(origin)).size).toBe(0);
  });

  it('scan streams a large log in ascending order and can be abandoned early', async () => {
    const origin = 'phi-audit/large/0';
    const records = sampleRecords(origin, 20_000);
    // Insert out of order so ascending output is the store's doing, not insertion order.
    await store.append(records.slice(10_000));
    await store.append(records.slice(0, 10_000));
    let expected = 0;
    for await (const r of store.scan(origin)) {
      expect(r.index).toBe(expected);
      expected++;
    }
    expect(expected).toBe(20_000);
    let seen = 0;
    for await (const _ of store.scan(origin, { fromIndex: 100 })) {
      if (++seen === 5) break;
    }
    expect(await store.ping()).toBe(true);
  });

  it('recentKeys returns the keys of the last `count` records of one log, ascending, values exact', async () => {
    const origin = 'phi-audit/recent-keys/0';
    const other = 'phi-audit/recent-keys/1';
    const keyed = (i: number) =>
      sampleEvent(i, {
        eventId: `evt-${i}-'q'\\{x:String}\u0000\n😀`,
        tenant: `tenant-${i % 3}`,
        source: { system: `ehr\t${i % 2}`, site: 'main' },
      });
    expect(await store.recentKeys(origin, 10)).toEqual([]);
    const records = sampleRecords(origin, 40, keyed);
    // Out of order, and next to another log, so order and filtering are the query's doing.
    await store.append(records.slice(20));
    await store.append(sampleRecords(other, 30));
    await store.append(records.slice(0, 20));
    const keyOf = (i: number) => {
      const e = keyed(i);
      return { index: i, tenant: e.tenant, sourceSystem: e.source.system, eventId: e.eventId };
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => keyOf(from + k));
    expect(await store.recentKeys(origin, 10)).toEqual(range(30, 40));
    expect(await store.recentKeys(origin, 1)).toEqual(range(39, 40));
    expect(await store.recentKeys(origin, 39)).toEqual(range(1, 40));
    expect(await store.recentKeys(origin, 40)).toEqual(range(0, 40));
    expect(await store.recentKeys(origin, 100_000)).toEqual(range(0, 40));
    expect(await store.recentKeys(origin, 0)).toEqual([]);
    expect((await store.recentKeys(other, 5)).map((k) => k.index)).toEqual([25, 26, 27, 28, 29]);
    // The window follows the head: after an append it ends at the new last record.
    const more = createChainBuilder(await store.head(origin)).append({ sourceOffset: 999, event: keyed(40) });
    await store.append([more]);
    expect(await store.recentKeys(origin, 3)).toEqual(range(38, 41));
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      await expect(store.recentKeys(origin, bad)).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
    }
    await expect(store.recentKeys('bad \ud800 origin', 5)).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
  });

  describe('tampering is visible', () => {
    const n = 10;
    async function seeded(name: string): Promise<{ origin: string; records: ReturnType<typeof sampleRecords> }> {
      const origin = `phi-audit/tamper-${name}/0`;
      const records = sampleRecords(origin, n);
      await store.append(records);
      return { origin, records };
    }

    it('UPDATE of a query column → scan names the column, verify fails at that index', async () => {
      const { origin } = await seeded('column');
      await adminCommand(
        admin,
        `ALTER TABLE ${db}.access_log UPDATE user_id = 'someone-else' WHERE log = '${origin}' AND idx = 4`,
      );
      await waitForMutations(admin, db);
      const rows = await collect(store.scan(origin));
      expect(rows.filter((r) => r.columnMismatch !== undefined).map((r) => [r.index, r.columnMismatch])).toEqual([
        [4, 'user_id'],
      ]);
      const verdict = await verifyLog({ origin, records: store.scan(origin) });
      expect(verdict.ok).toBe(false);
      expect(verdict.failure?.index).toBe(4);
    });

    it('UPDATE of event_json → verify fails at that index', async () => {
      const { origin, records } = await seeded('json');
      const forged = records[6]!.eventJson.replace('"action":"view"', '"action":"print"');
      expect(forged).not.toBe(records[6]!.eventJson);
      await adminCommand(
        admin,
        `ALTER TABLE ${db}.access_log UPDATE event_json = '${forged.replace(/'/g, "\\'")}' WHERE log = '${origin}' AND idx = 6`,
      );
      await waitForMutations(admin, db);
      const rows = await collect(store.scan(origin));
      expect(rows[6]!.columnMismatch).toBe('action');
      const verdict = await verifyLog({ origin, records: store.scan(origin) });
      expect(verdict.ok).toBe(false);
      expect(verdict.failure?.index).toBe(6);
    });

    it('DELETE of a middle row → head still ends at the last index, verify names the gap', async () => {
      const { origin, records } = await seeded('delete');
      await adminCommand(admin, `ALTER TABLE ${db}.access_log DELETE WHERE log = '${origin}' AND idx = 3`);
      await waitForMutations(admin, db);
      expect(await store.head(origin)).toEqual({
        origin,
        size: n,
        chain: records[n - 1]!.chain,
        lastSourceOffset: records[n - 1]!.sourceOffset,
      });
      expect((await store.logs()).find((l) => l.origin === origin)?.records).toBe(n - 1);
      const verdict = await verifyLog({ origin, records: store.scan(origin) });
      expect(verdict.ok).toBe(false);
      expect(verdict.failure).toMatchObject({ index: 3, kind: 'index_gap' });
    });

    it('INSERT of a forged row → it is scanned like any other and fails verification', async () => {
      const { origin, records } = await seeded('forged');
      const forgedTail = { ...rowFromRecord(records[2]!), idx: n, source_offset: 999 };
      const duplicate = { ...rowFromRecord(records[5]!), chain: 'f'.repeat(64) };
      await admin.insert({ table: `${db}.access_log`, values: [forgedTail, duplicate], format: 'JSONEachRow' });
      expect(await store.head(origin)).toMatchObject({ size: n + 1, lastSourceOffset: 999 });
      const indexes = (await collect(store.scan(origin))).map((r) => r.index);
      expect(indexes).toEqual([0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10]);
      const verdict = await verifyLog({ origin, records: store.scan(origin) });
      expect(verdict.ok).toBe(false);
      expect(verdict.failure?.index).toBe(5);
    });
  });

  describe('console queries', () => {
    const origin = 'phi-audit/queries/0';
    beforeAll(async () => {
      const events = (i: number) =>
        sampleEvent(i, {
          eventId: `q-${i}`,
          tenant: i % 4 === 3 ? 'clinic-b' : 'clinic-a',
          occurredAt: 1_700_000_000_000 + i * 60_000,
          actor: { userId: `u${i % 3}`, ...(i % 2 === 0 ? { role: 'nurse' } : {}) },
          patient: { id: `p${i % 2}` },
        });
      await store.append(sampleRecords(origin, 12, events));
    });

    it('accessesByPatient returns that patient in that tenant, newest first, within [from, to)', async () => {
      const all = await store.accessesByPatient({ tenant: 'clinic-a', patientId: 'p0', limit: 100 });
      expect(all.map((r) => r.eventId)).toEqual(['q-10', 'q-8', 'q-6', 'q-4', 'q-2', 'q-0']);
      expect(all[0]).toEqual({
        origin,
        index: 10,
        sourceOffset: 110,
        eventId: 'q-10',
        tenant: 'clinic-a',
        occurredAt: 1_700_000_600_000,
        receivedAt: sampleEvent(10).receivedAt,
        sourceSystem: 'ehr',
        userId: 'u1',
        userRole: 'nurse',
        patientId: 'p0',
        action: 'view',
        resourceType: 'Encounter',
        outcome: 'success',
      });
      const window = await store.accessesByPatient({
        tenant: 'clinic-a',
        patientId: 'p0',
        from: 1_700_000_120_000,
        to: 1_700_000_480_000,
        limit: 100,
      });
      expect(window.map((r) => r.eventId)).toEqual(['q-6', 'q-4', 'q-2']);
      expect(
        (await store.accessesByPatient({ tenant: 'clinic-a', patientId: 'p0', limit: 2 })).map((r) => r.eventId),
      ).toEqual(['q-10', 'q-8']);
      expect(
        (await store.accessesByPatient({ tenant: 'clinic-b', patientId: 'p1', limit: 100 })).map((r) => r.eventId),
      ).toEqual(['q-11', 'q-7', 'q-3']);
    });

    it('accessesByUser reads the per-user view: that user in that tenant, newest first', async () => {
      const rows = await store.accessesByUser({ tenant: 'clinic-a', userId: 'u1', limit: 100 });
      expect(rows.map((r) => r.eventId)).toEqual(['q-10', 'q-4', 'q-1']);
      expect(rows.find((r) => r.eventId === 'q-1')?.userRole).toBeUndefined();
      const [viaView] = await adminSelect<{ n: string }>(
        admin,
        `SELECT toString(count()) AS n FROM ${db}.access_log_by_user WHERE log = '${origin}'`,
      );
      expect(viaView?.n).toBe('12');
    });

    it('rejects bad queries before they reach SQL', async () => {
      await expect(store.accessesByUser({ tenant: 'clinic-a', userId: '', limit: 10 })).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      await expect(store.accessesByPatient({ tenant: 'clinic-a', patientId: 'p0', limit: 0 })).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      await expect(
        store.accessesByPatient({ tenant: 'clinic-a', patientId: '\ud800', limit: 5 }),
      ).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
    });

    it('countsByTenant counts rows per tenant', async () => {
      const counts = await store.countsByTenant();
      const [b] = await adminSelect<{ n: string }>(
        admin,
        `SELECT toString(count()) AS n FROM ${db}.access_log WHERE tenant = 'clinic-b'`,
      );
      expect(counts.find((c) => c.tenant === 'clinic-b')?.records).toBe(Number(b?.n));
      expect(counts.find((c) => c.tenant === 'clinic-b')?.records).toBeGreaterThanOrEqual(3);
    });
  });

  it('ping is false for wrong credentials, and a closed store refuses work', async () => {
    const u = new URL(url!);
    u.username = 'nobody_here';
    u.password = 'wrong';
    const bad = createClickHouseLedgerStore({ url: u.toString().replace(/\/$/, ''), database: db });
    expect(await bad.ping()).toBe(false);
    await expect(bad.heads()).rejects.toMatchObject({ code: 'STORE_QUERY_FAILED' });
    await bad.close();
    await expect(bad.heads()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
