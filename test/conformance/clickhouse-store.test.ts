import { afterAll, beforeAll, describe } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  createClickHouseLedgerStore,
  quoteString,
  rowFromRecord,
  type ClickHouseLedgerStore,
} from '@phi-audit/store-clickhouse';
import {
  adminClient,
  adminCommand,
  adminSelect,
  clickHouseUrl,
  dropDatabase,
  uniqueDatabase,
  waitForMutations,
} from '../../packages/store-clickhouse/src/testing/clickhouse-test-database.js';
import type { ConformanceHarness, TamperHooks } from './ledger-store-conformance.js';
import { describeLedgerStoreConformance } from './ledger-store-conformance.js';
import { describeMerkleStoreConformance } from './merkle-store-conformance.js';

/** Sorting-key columns: a mutation cannot UPDATE them, so the attacker deletes and re-inserts the row. */
const KEY_COLUMNS = new Set(['log', 'idx', 'tenant', 'patient_id', 'occurred_ms']);
const UINT_COLUMNS = new Set(['idx', 'source_offset', 'occurred_ms', 'received_ms']);
const COLUMN = /^[a-z_]+$/;

type Row = Record<string, string | number>;

/** An attacker with admin credentials: mutations, deletes and raw inserts (18.16 mutations are async: waited for). */
function clickHouseTamper(admin: ClickHouseClient, db: string): TamperHooks {
  const table = `${db}.access_log`;
  const at = (origin: string, indexes: number[]) => `log = ${quoteString(origin)} AND idx IN (${indexes.join(', ')})`;
  const mutate = async (statement: string) => {
    await adminCommand(admin, statement);
    await waitForMutations(admin, db);
  };
  const insert = async (rows: Row[]) => {
    // JSONEachRow output quotes 64-bit integers; insert them as numbers.
    const values = rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, UINT_COLUMNS.has(k) ? Number(v) : v])),
    );
    await admin.insert({ table, values, format: 'JSONEachRow' });
  };
  const rowsAt = async (origin: string, indexes: number[]) => {
    const rows = await adminSelect<Row>(admin, `SELECT * FROM ${table} WHERE ${at(origin, indexes)} ORDER BY idx`);
    if (rows.length === 0) throw new Error(`no rows ${indexes.join(', ')} in ${origin}`);
    return rows;
  };
  /** Delete-and-reinsert, for changes a mutation cannot make. */
  const rewrite = async (origin: string, indexes: number[], change: (row: Row) => Row) => {
    const rows = await rowsAt(origin, indexes);
    await mutate(`ALTER TABLE ${table} DELETE WHERE ${at(origin, indexes)}`);
    await insert(rows.map(change));
  };
  const literal = (v: string | number) => (typeof v === 'number' ? String(v) : quoteString(v));
  return {
    async updateEventJson(origin, index, replace) {
      const [row] = await rowsAt(origin, [index]);
      await mutate(
        `ALTER TABLE ${table} UPDATE event_json = ${quoteString(replace(String(row!.event_json)))} WHERE ${at(origin, [index])}`,
      );
    },
    async updateColumn(origin, index, column, value) {
      if (!COLUMN.test(column)) throw new Error(`bad column name ${column}`);
      if (KEY_COLUMNS.has(column)) await rewrite(origin, [index], (r) => ({ ...r, [column]: value }));
      else await mutate(`ALTER TABLE ${table} UPDATE ${column} = ${literal(value)} WHERE ${at(origin, [index])}`);
    },
    async deleteRecord(origin, index) {
      await mutate(`ALTER TABLE ${table} DELETE WHERE ${at(origin, [index])}`);
    },
    async duplicateRecord(origin, index) {
      await insert(await rowsAt(origin, [index]));
    },
    async swapRecords(origin, i, j) {
      await rewrite(origin, [i, j], (r) => ({ ...r, idx: Number(r.idx) === i ? j : i }));
    },
    async insertRow(record) {
      await insert([{ ...rowFromRecord(record) }]);
    },
    async updateCheckpointNote(origin, size, replace) {
      const rows = await adminSelect<{ note: string }>(
        admin,
        `SELECT note FROM ${db}.checkpoints WHERE log = ${quoteString(origin)} AND size = ${size}`,
      );
      const [first] = rows;
      if (first === undefined) throw new Error(`no checkpoint of size ${size} in ${origin}`);
      await mutate(
        `ALTER TABLE ${db}.checkpoints UPDATE note = ${quoteString(replace(first.note))} WHERE log = ${quoteString(origin)} AND size = ${size}`,
      );
    },
    async deleteCheckpoints(origin) {
      await mutate(`ALTER TABLE ${db}.checkpoints DELETE WHERE log = ${quoteString(origin)}`);
    },
    async updateTile(origin, level, index, replace) {
      const where = `log = ${quoteString(origin)} AND level = ${level} AND tile_index = ${index}`;
      const rows = await adminSelect<{ hashes: string; width: number | string }>(
        admin,
        `SELECT hashes, width FROM ${db}.merkle_tiles WHERE ${where} ORDER BY width DESC LIMIT 1`,
      );
      const [widest] = rows;
      if (widest === undefined) throw new Error(`no tile ${level}/${index} in ${origin}`);
      const hashes = replace(Buffer.from(widest.hashes, 'hex')).toString('hex');
      await mutate(
        `ALTER TABLE ${db}.merkle_tiles UPDATE hashes = ${quoteString(hashes)} WHERE ${where} AND width = ${Number(widest.width)}`,
      );
    },
    async deleteLog(origin) {
      await mutate(`ALTER TABLE ${table} DELETE WHERE log = ${quoteString(origin)}`);
      await mutate(`ALTER TABLE ${db}.merkle_tiles DELETE WHERE log = ${quoteString(origin)}`);
    },
  };
}

const url = clickHouseUrl();
const db = uniqueDatabase('conformance');
let admin: ClickHouseClient | undefined;

beforeAll(async () => {
  if (url === undefined) return;
  admin = adminClient(url);
  const store = createClickHouseLedgerStore({ url, database: db });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
});
afterAll(async () => {
  if (admin === undefined) return;
  await dropDatabase(admin, db);
  await admin.close();
});

const harness: ConformanceHarness = {
  async open() {
    if (url === undefined || admin === undefined) throw new Error('CLICKHOUSE_URL is not set');
    const open = () => createClickHouseLedgerStore({ url, database: db });
    let store: ClickHouseLedgerStore = open();
    return {
      store,
      async reopen() {
        await store.close();
        store = open();
        return store;
      },
      tamper: clickHouseTamper(admin, db),
      async close() {
        await store.close();
      },
    };
  },
};

describe.skipIf(url === undefined)('ClickHouse store (real server)', () => {
  describeLedgerStoreConformance('ClickHouse', harness);
  describeMerkleStoreConformance('ClickHouse', harness);
});
