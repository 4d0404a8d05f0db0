import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { verifyLog } from '@phi-audit/ledger';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseLedgerStore, type ClickHouseLedgerStore } from './clickhouse-ledger-store.js';
import { DEFAULT_DATABASE } from './connection-options.js';
import {
  adminClient,
  clickHouseUrl,
  clientFor,
  dropDatabase,
  uniqueDatabase,
} from './testing/clickhouse-test-database.js';
import { sampleRecords } from './testing/sample-events.js';

/**
 * The restricted accounts from deploy/clickhouse/users.d, as the test harness provisions
 * them (CLICKHOUSE_WRITER_URL / CLICKHOUSE_READER_URL, rendered by renderClickHouseUsers).
 * They may only touch `phi_audit`, so this file shares that database with other runs and
 * isolates itself by a unique log origin and unique table names instead; it drops nothing.
 */
const adminUrl = clickHouseUrl();
const writerUrl = process.env.CLICKHOUSE_WRITER_URL;
const readerUrl = process.env.CLICKHOUSE_READER_URL;
const provisioned = adminUrl !== undefined && !!writerUrl && !!readerUrl;
if (adminUrl !== undefined && !provisioned) {
  if (process.env.CI === 'true')
    throw new Error('CI=true but CLICKHOUSE_WRITER_URL / CLICKHOUSE_READER_URL are not set');
  console.warn('CLICKHOUSE_WRITER_URL / CLICKHOUSE_READER_URL not set: skipping the users.d permission tests');
}

/** A permission refusal on either version, not some other failure (syntax, missing table). */
const REFUSED = /prohibited|readonly mode|Not enough privileges|ACCESS_DENIED|Access denied/i;

describe.skipIf(!provisioned)('users.d profiles (phi_writer, phi_reader) on the real server', () => {
  const origin = `phi-audit/users-test-${randomBytes(6).toString('hex')}/0`;
  const scratch = `t_users_${randomBytes(6).toString('hex')}`;
  const db = DEFAULT_DATABASE;
  let writer: ClickHouseLedgerStore;
  let reader: ClickHouseLedgerStore;
  let writerSql: ClickHouseClient;
  let readerSql: ClickHouseClient;
  const records = sampleRecords(origin, 5);

  beforeAll(async () => {
    const admin = createClickHouseLedgerStore({ url: adminUrl!, database: db });
    try {
      await admin.migrate();
    } finally {
      await admin.close();
    }
    writer = createClickHouseLedgerStore({ url: writerUrl!, database: db });
    reader = createClickHouseLedgerStore({ url: readerUrl!, database: db });
    writerSql = clientFor(writerUrl!, db);
    readerSql = clientFor(readerUrl!, db);
  });
  afterAll(async () => {
    await Promise.all([writer?.close(), reader?.close(), writerSql?.close(), readerSql?.close()]);
  });

  it('the writer appends and reads its log through the store', async () => {
    expect(await writer.ping()).toBe(true);
    await writer.append(records);
    expect(await writer.head(origin)).toMatchObject({ size: 5, chain: records[4]!.chain });
    expect((await verifyLog({ origin, records: writer.scan(origin) })).ok).toBe(true);
  });

  it('the writer stores and reads Merkle tiles and checkpoints; the reader reads them but cannot store them', async () => {
    const tile = {
      origin,
      level: 0,
      index: 0,
      hashes: Buffer.concat(records.map((r) => Buffer.from(r.leafHash, 'hex'))),
    };
    const checkpoint = { origin, size: 5, rootHex: records[4]!.leafHash, note: `${origin}\n5\nroot\n`, signedAt: 1 };
    await writer.append([], [tile]);
    await writer.putCheckpoint(checkpoint);
    for (const store of [writer, reader]) {
      expect(await store.readTiles(origin, [{ level: 0, index: 0 }])).toEqual([tile]);
      expect(await store.tileCoverage(origin)).toBe(5);
      expect(await store.latestCheckpoint(origin)).toEqual(checkpoint);
      expect(await store.checkpointedLogs()).toContain(origin);
      expect((await store.recordsAt(origin, [4])).map((r) => r.chain)).toEqual([records[4]!.chain]);
    }
    const wider = { ...tile, index: 1, hashes: Buffer.alloc(64, 1) };
    for (const put of [() => reader.putTiles([wider]), () => reader.putCheckpoint({ ...checkpoint, size: 6 })]) {
      const err = await put().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'STORE_INSERT_FAILED' });
      expect(String((err as Error).cause)).toMatch(REFUSED);
    }
    expect(await reader.readTiles(origin, [wider])).toEqual([]);
    expect((await reader.checkpoints(origin)).map((c) => c.size)).toEqual([5]);
  });

  it('the writer cannot CREATE, DROP, ALTER, mutate, TRUNCATE or re-enable DDL', async () => {
    const refused = [
      `CREATE TABLE ${db}.${scratch} (a String) ENGINE = Memory`,
      `DROP TABLE IF EXISTS ${db}.${scratch}`,
      `ALTER TABLE ${db}.access_log ADD COLUMN ${scratch} String`,
      `ALTER TABLE ${db}.access_log UPDATE user_id = 'x' WHERE log = '${origin}'`,
      `ALTER TABLE ${db}.access_log DELETE WHERE log = '${origin}'`,
      `TRUNCATE TABLE ${db}.${scratch}`,
      'SET allow_ddl = 1',
    ];
    for (const query of refused) {
      const err = await writerSql.command({ query }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, query).toBeInstanceOf(Error);
      expect((err as Error).message, query).toMatch(REFUSED);
    }
    expect((await writer.head(origin)).size).toBe(5);
  });

  it('neither account can read or write another database', async () => {
    const other = uniqueDatabase('users_other');
    const admin = createClickHouseLedgerStore({ url: adminUrl!, database: other });
    const adminSql = adminClient(adminUrl!);
    try {
      await admin.migrate();
      for (const url of [writerUrl!, readerUrl!]) {
        const elsewhere = createClickHouseLedgerStore({ url, database: other });
        try {
          const err = await elsewhere.logs().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toMatchObject({ code: 'STORE_QUERY_FAILED' });
          expect(String((err as Error).cause)).toMatch(REFUSED);
          await expect(elsewhere.append(sampleRecords(origin, 1))).rejects.toMatchObject({
            code: 'STORE_INSERT_FAILED',
          });
        } finally {
          await elsewhere.close();
        }
      }
      expect(await admin.logs()).toEqual([]);
    } finally {
      await admin.close();
      await dropDatabase(adminSql, other);
      await adminSql.close();
    }
  });

  it('the reader can read (including scan with its per-query settings) but not write', async () => {
    expect(await reader.ping()).toBe(true);
    expect(await reader.head(origin)).toMatchObject({ size: 5 });
    expect((await verifyLog({ origin, records: reader.scan(origin) })).ok).toBe(true);
    expect(await reader.accessesByUser({ tenant: 'clinic-a', userId: 'user-1', limit: 10 })).toBeInstanceOf(Array);
    await expect(reader.append(sampleRecords(`${origin}-r`, 1))).rejects.toMatchObject({ code: 'STORE_INSERT_FAILED' });
    for (const query of [
      `INSERT INTO ${db}.schema_migrations (version, name, applied_at) VALUES (0, 'x', now())`,
      `CREATE TABLE ${db}.${scratch} (a String) ENGINE = Memory`,
      `ALTER TABLE ${db}.access_log DELETE WHERE log = '${origin}'`,
    ]) {
      const err = await readerSql.command({ query }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error | undefined)?.message, query).toMatch(REFUSED);
    }
    expect((await reader.logs()).find((l) => l.origin === `${origin}-r`)).toBeUndefined();
  });
});
