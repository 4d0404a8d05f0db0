import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ACCESS_LOG_COLUMNS,
  createSqliteLedgerStore,
  rowFromRecord,
  type SqliteLedgerStore,
} from '@phi-audit/store-sqlite';
import type { ConformanceHarness, TamperHooks } from './ledger-store-conformance.js';
import { describeLedgerStoreConformance } from './ledger-store-conformance.js';
import { describeMerkleStoreConformance } from './merkle-store-conformance.js';

const COLUMN = /^[a-z_]+$/;
const NEXT_SEQ = '(SELECT coalesce(max(seq), 0) + 1 FROM access_log)';

/** An attacker with the file: a second, raw connection writing whatever it likes. */
function sqliteTamper(db: Database.Database): TamperHooks {
  const where = 'WHERE log = ? AND idx = ?';
  const columns = ACCESS_LOG_COLUMNS.join(', ');
  return {
    async updateEventJson(origin, index, replace) {
      const row = db
        .prepare<[string, number], { event_json: string }>(`SELECT event_json FROM access_log ${where}`)
        .get(origin, index);
      if (row === undefined) throw new Error(`no row ${index} in ${origin}`);
      db.prepare(`UPDATE access_log SET event_json = ? ${where}`).run(replace(row.event_json), origin, index);
    },
    async updateColumn(origin, index, column, value) {
      if (!COLUMN.test(column)) throw new Error(`bad column name ${column}`);
      db.prepare(`UPDATE access_log SET ${column} = ? ${where}`).run(value, origin, index);
    },
    async deleteRecord(origin, index) {
      db.prepare(`DELETE FROM access_log ${where}`).run(origin, index);
    },
    async duplicateRecord(origin, index) {
      db.prepare(
        `INSERT INTO access_log (seq, ${columns}) SELECT ${NEXT_SEQ}, ${columns} FROM access_log ${where} LIMIT 1`,
      ).run(origin, index);
    },
    async swapRecords(origin, i, j) {
      db.prepare(`UPDATE access_log SET idx = CASE idx WHEN ? THEN ? ELSE ? END WHERE log = ? AND idx IN (?, ?)`).run(
        i,
        j,
        i,
        origin,
        i,
        j,
      );
    },
    async insertRow(record) {
      const row = rowFromRecord(record);
      db.prepare(
        `INSERT INTO access_log (seq, ${columns}) VALUES (${NEXT_SEQ}, ${ACCESS_LOG_COLUMNS.map(() => '?').join(', ')})`,
      ).run(ACCESS_LOG_COLUMNS.map((c) => row[c]));
    },
    async updateCheckpointNote(origin, size, replace) {
      const rows = db
        .prepare<[string, number], { rowid: number; note: string }>(
          'SELECT rowid, note FROM checkpoints WHERE log = ? AND size = ?',
        )
        .all(origin, size);
      if (rows.length === 0) throw new Error(`no checkpoint of size ${size} in ${origin}`);
      for (const r of rows) db.prepare('UPDATE checkpoints SET note = ? WHERE rowid = ?').run(replace(r.note), r.rowid);
    },
    async deleteCheckpoints(origin) {
      db.prepare('DELETE FROM checkpoints WHERE log = ?').run(origin);
    },
    async updateTile(origin, level, index, replace) {
      const row = db
        .prepare<[string, number, number], { hashes: Buffer }>(
          'SELECT hashes FROM merkle_tiles WHERE log = ? AND level = ? AND tile_index = ?',
        )
        .get(origin, level, index);
      if (row === undefined) throw new Error(`no tile ${level}/${index} in ${origin}`);
      db.prepare('UPDATE merkle_tiles SET hashes = ? WHERE log = ? AND level = ? AND tile_index = ?').run(
        replace(Buffer.from(row.hashes)),
        origin,
        level,
        index,
      );
    },
    async deleteLog(origin) {
      db.prepare('DELETE FROM access_log WHERE log = ?').run(origin);
      db.prepare('DELETE FROM merkle_tiles WHERE log = ?').run(origin);
    },
  };
}

const harness: ConformanceHarness = {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'phi-audit-conformance-'));
    const file = join(dir, 'ledger.sqlite');
    let store: SqliteLedgerStore = createSqliteLedgerStore({ file });
    const attacker = new Database(file);
    return {
      store,
      async reopen() {
        await store.close();
        store = createSqliteLedgerStore({ file });
        return store;
      },
      tamper: sqliteTamper(attacker),
      async close() {
        attacker.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

describeLedgerStoreConformance('SQLite', harness);
describeMerkleStoreConformance('SQLite', harness);
