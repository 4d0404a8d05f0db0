import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogTile, StoredRecord } from '@phi-audit/ledger';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseLedgerStore, type ClickHouseLedgerStore } from './clickhouse-ledger-store.js';
import { MAX_LOOKUP_KEYS } from './merkle-rows.js';
import { MIGRATIONS } from './migrations.js';
import * as sql from './statements.js';
import {
  adminClient,
  adminCommand,
  adminSelect,
  clickHouseUrl,
  dropDatabase,
  uniqueDatabase,
} from './testing/clickhouse-test-database.js';
import { sampleEvent, sampleRecords } from './testing/sample-events.js';

/**
 * What is ClickHouse's own in the Merkle/checkpoint storage (the shared behaviour is
 * test/conformance/merkle-store-conformance.ts): migration 2 on an existing database, reads
 * that do not wait for ReplacingMergeTree merges, hex transport, lookups whose SQL text passes
 * the 256 KiB max_query_size default, malformed stored tiles, and the non-atomic tiles insert.
 */
const url = clickHouseUrl();

const tile = (origin: string, level: number, index: number, width: number): LogTile => ({
  origin,
  level,
  index,
  hashes: randomBytes(width * 32),
});
const unique = (label: string) => `phi-audit/${label}-${randomBytes(4).toString('hex')}/0`;

describe.skipIf(url === undefined)('ClickHouse Merkle tiles, checkpoints and lookups (real server)', () => {
  const db = uniqueDatabase('merkle');
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

  const versionsOf = async (origin: string) =>
    adminSelect<{ level: number; tile_index: string; width: number; hashes: string }>(
      admin,
      `SELECT level, tile_index, width, hashes FROM ${db}.merkle_tiles WHERE log = '${origin}' ORDER BY level, tile_index, width`,
    );

  it('migration 2 upgrades a database that has only migration 1, keeping its records', async () => {
    const old = uniqueDatabase('merkle_upgrade');
    const origin = unique('upgrade');
    try {
      await adminCommand(admin, sql.createDatabase(old));
      await adminCommand(admin, sql.createSchemaMigrationsTable(old));
      const [first] = MIGRATIONS;
      for (const statement of first!.statements(old)) await adminCommand(admin, statement);
      await adminCommand(admin, sql.insertAppliedMigration(old, first!.version, first!.name));
      const s = createClickHouseLedgerStore({ url: url!, database: old });
      try {
        const records = sampleRecords(origin, 3);
        await s.append(records);
        await expect(s.tileCoverage(origin)).rejects.toMatchObject({ code: 'STORE_QUERY_FAILED' });
        await s.migrate();
        expect((await s.head(origin)).size).toBe(3);
        await s.putTiles([tile(origin, 0, 0, 3)]);
        expect(await s.tileCoverage(origin)).toBe(3);
        const applied = await adminSelect<{ version: number }>(admin, sql.selectAppliedMigrations(old));
        expect(applied.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await s.close();
      }
    } finally {
      await dropDatabase(admin, old);
    }
  });

  it('stores hashes as lowercase hex with their width, and only versions wider than the stored one', async () => {
    const origin = unique('hex');
    const t3 = tile(origin, 0, 7, 3);
    await store.putTiles([t3]);
    expect(await versionsOf(origin)).toEqual([
      { level: 0, tile_index: '7', width: 3, hashes: t3.hashes.toString('hex') },
    ]);
    // Equal and narrower versions are not even inserted: no row for a merge to sort out.
    await store.putTiles([tile(origin, 0, 7, 3), tile(origin, 0, 7, 1)]);
    expect(await versionsOf(origin)).toHaveLength(1);
  });

  it('reads the widest version before any merge, and the same after OPTIMIZE … FINAL', async () => {
    const origin = unique('merge');
    const versions = [5, 100, 256].map((w) => tile(origin, 0, 0, w));
    // Separate inserts: separate parts, so three rows of one tile until a merge.
    for (const v of versions) await store.putTiles([v]);
    await store.putTiles([tile(origin, 1, 0, 1), tile(origin, 1, 0, 2)]);
    expect((await versionsOf(origin)).map((r) => r.width)).toEqual([5, 100, 256, 2]);
    const read = async () =>
      (await store.readTiles(origin, [{ level: 0, index: 0 }])).map((t) => t.hashes.toString('hex'));
    expect(await read()).toEqual([versions[2]!.hashes.toString('hex')]);
    expect(await store.tileCoverage(origin)).toBe(256);

    await adminCommand(admin, `OPTIMIZE TABLE ${db}.merkle_tiles FINAL`);
    expect((await versionsOf(origin)).map((r) => r.width)).toEqual([256, 2]);
    expect(await read()).toEqual([versions[2]!.hashes.toString('hex')]);
    expect(await store.tileCoverage(origin)).toBe(256);
  });

  it('a stored tile that is not well-formed hex of its width is STORE_QUERY_FAILED, not a short tile', async () => {
    const origin = unique('malformed');
    const good = tile(origin, 0, 1, 2);
    await store.putTiles([good, tile(origin, 0, 0, 256)]);
    const forged = `${good.hashes.toString('hex').slice(0, 64)}zz${'0'.repeat(62)}`;
    await admin.insert({
      table: `${db}.merkle_tiles`,
      values: [{ log: origin, level: 0, tile_index: 1, width: 3, hashes: forged }],
      format: 'JSONEachRow',
    });
    const err = await store.readTiles(origin, [{ level: 0, index: 1 }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'STORE_QUERY_FAILED' });
    expect((err as Error).message).toMatch(/level 0, index 1 .*malformed/);
    expect((err as Error).message).not.toContain(forged);
    // Other tiles of the log still read.
    expect(await store.readTiles(origin, [{ level: 0, index: 0 }])).toHaveLength(1);
  });

  it('lookups of MAX_LOOKUP_KEYS keys work, even event ids whose SQL text is far past 256 KiB', async () => {
    const origin = unique('big-lookup');
    const tenant = `tenant-${randomBytes(4).toString('hex')}`;
    // Ten thousand event ids of 100 control characters: each is ~400 bytes once escaped (\xHH).
    const longId = (i: number) => `${i}-${'\u0001'.repeat(100)}`;
    const records = sampleRecords(origin, 3, (i) => sampleEvent(i, { tenant, eventId: longId(i * 4_000) }));
    await store.append(records);
    const ids = Array.from({ length: MAX_LOOKUP_KEYS }, (_, i) => longId(i));
    expect(Buffer.byteLength(sql.selectRecordsByEventId(db, tenant, ids))).toBeGreaterThan(3 * 1024 * 1024);
    expect((await store.recordsByEventId(tenant, ids)).map((r) => r.index)).toEqual([0, 1, 2]);

    const indexes = Array.from({ length: MAX_LOOKUP_KEYS }, (_, i) => Number.MAX_SAFE_INTEGER - i);
    indexes[0] = 1;
    expect((await store.recordsAt(origin, indexes)).map((r) => r.index)).toEqual([1]);

    const tileIds = Array.from({ length: MAX_LOOKUP_KEYS }, (_, i) => ({
      level: i % 3,
      index: Number.MAX_SAFE_INTEGER - i,
    }));
    tileIds[0] = { level: 0, index: 0 };
    await store.putTiles([tile(origin, 0, 0, 3)]);
    expect(await store.readTiles(origin, tileIds)).toHaveLength(1);
    // putTiles reads the stored widths with the same kind of query.
    const many = Array.from({ length: 2_000 }, (_, i) => tile(origin, 2, Number.MAX_SAFE_INTEGER - i, 1));
    await store.putTiles(many);
    expect(await store.readTiles(origin, many)).toHaveLength(2_000);
  });

  it('putTiles of more than MAX_LOOKUP_KEYS tiles is STORE_BATCH_TOO_LARGE and stores nothing', async () => {
    const origin = unique('too-many');
    const tiles = Array.from({ length: MAX_LOOKUP_KEYS + 1 }, (_, i) => tile(origin, 0, i, 1));
    await expect(store.putTiles(tiles)).rejects.toMatchObject({ code: 'STORE_BATCH_TOO_LARGE' });
    await expect(store.append(sampleRecords(origin, 1), tiles)).rejects.toMatchObject({
      code: 'STORE_BATCH_TOO_LARGE',
    });
    expect(await store.tileCoverage(origin)).toBe(0);
    expect((await store.head(origin)).size).toBe(0);
  });

  it('when the tiles insert fails after the records insert, the records stay and the error says so', async () => {
    const other = uniqueDatabase('merkle_lag');
    const s = createClickHouseLedgerStore({ url: url!, database: other });
    const origin = unique('lag');
    try {
      await s.migrate();
      // The table the second insert needs is gone: only that step can fail.
      await adminCommand(admin, `DROP TABLE ${other}.merkle_tiles`);
      const records = sampleRecords(origin, 4);
      const err = await s.append(records, [tile(origin, 0, 0, 4)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'STORE_TILES_NOT_STORED' });
      const stored: StoredRecord[] = [];
      for await (const r of s.scan(origin)) stored.push(r);
      expect(stored).toEqual(records);
      // A tiles-only append has no records to speak of: the plain insert failure.
      await expect(s.append([], [tile(origin, 0, 0, 4)])).rejects.toMatchObject({ code: 'STORE_QUERY_FAILED' });
    } finally {
      await s.close();
      await dropDatabase(admin, other);
    }
  });

  it('checkpoints keep 64-bit sizes and times exactly, and identical puts read back once', async () => {
    const origin = unique('ckpt');
    const checkpoint = {
      origin,
      size: Number.MAX_SAFE_INTEGER,
      rootHex: randomBytes(32).toString('hex'),
      note: `${origin}\n${Number.MAX_SAFE_INTEGER}\nroot\n\n\u2014 example.org/ckpt sig'\\\n`,
      signedAt: Number.MAX_SAFE_INTEGER - 1,
    };
    await store.putCheckpoint(checkpoint);
    await store.putCheckpoint({ ...checkpoint });
    const [raw] = await adminSelect<{ n: string }>(
      admin,
      `SELECT toString(count()) AS n FROM ${db}.checkpoints WHERE log = '${origin}'`,
    );
    expect(raw?.n).toBe('2');
    expect(await store.checkpoints(origin)).toEqual([checkpoint]);
    expect(await store.latestCheckpoint(origin)).toEqual(checkpoint);
    expect(await store.checkpointedLogs()).toContain(origin);
  });
});
