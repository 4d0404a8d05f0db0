import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTileBuilder, rightEdgeTiles, verifyLog, type LedgerRecord, type LogTile } from '@phi-audit/ledger';
import { ACCESS_LOG_COLUMNS, rowFromRecord } from './access-log-row.js';
import { embeddedOrigin, ledgerFileIn } from './embedded-layout.js';
import { MIGRATIONS } from './migrations.js';
import { createSqliteLedgerStore, type SqliteLedgerStore } from './sqlite-ledger-store.js';
import * as sql from './statements.js';
import { sampleRecords } from './testing/sample-records.js';

const A = embeddedOrigin('clinic-a');
const FILLER = embeddedOrigin('filler');

/** The tiles a writer stores with `records` continuing a log of `size` leaves whose tiles are `stored`. */
function tilesFor(records: readonly LedgerRecord[], size: number, stored: readonly LogTile[]): LogTile[] {
  const builder = createTileBuilder({ size, rightEdge: stored });
  builder.append(records.map((r) => Buffer.from(r.leafHash, 'hex')));
  return builder.takeChanged().map((t) => ({ ...t, origin: records[0]!.origin }));
}

const fullTile = (origin: string, level: number, index: number): LogTile => ({
  origin,
  level,
  index,
  hashes: randomBytes(256 * 32),
});

describe('SQLite proof storage (real files)', () => {
  let dir: string;
  let file: string;
  const opened: SqliteLedgerStore[] = [];
  const open = (options: { maxPageCount?: number; readonly?: boolean } = {}) => {
    const s = createSqliteLedgerStore({ file, ...options });
    opened.push(s);
    return s;
  };
  /** A raw connection: what another program (or an attacker) with the file can do, and inspection. */
  const raw = (readonly = true) => new Database(file, { readonly });
  const count = (table: 'access_log' | 'merkle_tiles' | 'checkpoints') => {
    const db = raw();
    try {
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-audit-sqlite-proofs-'));
    file = ledgerFileIn(join(dir, 'data'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a schema-1 ledger is refused read-only, upgraded by a read-write open with its data kept, then readable', async () => {
    // A ledger written by the previous release: migration 1 only, and rows as that release wrote them.
    mkdirSync(dirname(file), { recursive: true });
    let db = raw(false);
    db.exec(sql.CREATE_SCHEMA_MIGRATIONS);
    const [v1] = MIGRATIONS;
    for (const statement of v1!.statements) db.exec(statement);
    db.prepare(sql.INSERT_APPLIED_MIGRATION).run(v1!.version, v1!.name, 0);
    const records = sampleRecords(A, 5, 0);
    const insert = db.prepare(sql.INSERT_ROW);
    for (const record of records) {
      const row = rowFromRecord(record);
      insert.run(row.source_offset, ...ACCESS_LOG_COLUMNS.map((c) => row[c]));
    }
    db.close();

    expect(() => open({ readonly: true })).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA_OUTDATED' }));
    const upgraded = open();
    expect((await upgraded.head(A)).size).toBe(5);
    expect(await upgraded.recordsByEventId('clinic-a', ['evt-4'])).toEqual([records[4]]);
    await upgraded.putTiles(tilesFor(records, 0, []));
    await upgraded.close();
    db = raw();
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    db.close();
    const reader = open({ readonly: true });
    expect(await reader.tileCoverage(A)).toBe(5);
    expect(await verifyLog({ origin: A, records: reader.scan(A) })).toMatchObject({ ok: true, records: 5 });
  });

  it('stores a tile as exactly its concatenated hashes, and the table refuses an inconsistent row from anyone', async () => {
    const s = open();
    const tile = { origin: A, level: 0, index: 3, hashes: randomBytes(7 * 32) };
    await s.putTiles([tile]);
    const db = raw(false);
    expect(db.prepare('SELECT log, level, tile_index, width, hashes FROM merkle_tiles').all()).toEqual([
      { log: A, level: 0, tile_index: 3, width: 7, hashes: tile.hashes },
    ]);
    const insert = db.prepare(
      'INSERT INTO merkle_tiles (log, level, tile_index, width, hashes) VALUES (?, ?, ?, ?, ?)',
    );
    for (const bad of [
      [A, 0, 4, 2, randomBytes(32)],
      [A, 0, 5, 0, Buffer.alloc(0)],
      [A, 0, 6, 257, randomBytes(257 * 32)],
      [A, -1, 0, 1, randomBytes(32)],
      [A, 0, 7, 1, 'text, not a blob'],
    ]) {
      expect(() => insert.run(bad)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) }),
      );
    }
    db.close();
  });

  it('records and tiles are one transaction: a tile the database refuses rolls back the whole append', async () => {
    const s = open();
    const first = sampleRecords(A, 300, 0);
    const firstTiles = tilesFor(first, 0, []);
    s.appendSync(first, undefined, firstTiles);
    const before = { head: await s.head(A), rows: count('access_log'), tiles: count('merkle_tiles') };
    expect(before).toMatchObject({ rows: 300, tiles: 3 });

    // Another program's trigger refuses level-1 tiles: the level-0 tiles and records go in first, then this fails.
    const db = raw(false);
    db.exec(`CREATE TRIGGER refuse_level_1 BEFORE INSERT ON merkle_tiles WHEN NEW.level = 1
      BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    db.exec(`CREATE TRIGGER refuse_level_1_update BEFORE UPDATE ON merkle_tiles WHEN NEW.level = 1
      BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    db.close();
    const more = sampleRecords(before.head, 300, 300);
    const moreTiles = tilesFor(more, 300, await s.readTiles(A, rightEdgeTiles(300)));
    expect(moreTiles.map((t) => t.level)).toContain(1);
    expect(() => s.appendSync(more, undefined, moreTiles)).toThrow(
      expect.objectContaining({ code: 'STORE_INSERT_FAILED' }),
    );
    await expect(s.putTiles(moreTiles)).rejects.toMatchObject({ code: 'STORE_INSERT_FAILED' });
    expect({ head: await s.head(A), rows: count('access_log'), tiles: count('merkle_tiles') }).toEqual(before);
    expect(await s.tileCoverage(A)).toBe(300);
    expect((await s.readTiles(A, firstTiles)).sort((x, y) => x.level - y.level || x.index - y.index)).toEqual(
      firstTiles,
    );

    // The other way round: records the database refuses (an offset already stored) take their tiles with them.
    const clash = sampleRecords(embeddedOrigin('clinic-b'), 3, 298);
    expect(() => s.appendSync(clash, undefined, [fullTile(FILLER, 0, 0)])).toThrow(
      expect.objectContaining({ code: 'STORE_INSERT_FAILED' }),
    );
    expect(await s.tileCoverage(FILLER)).toBe(0);
    expect((await s.head(embeddedOrigin('clinic-b'))).size).toBe(0);

    const fixer = raw(false);
    fixer.exec('DROP TRIGGER refuse_level_1; DROP TRIGGER refuse_level_1_update');
    fixer.close();
    s.appendSync(more, undefined, moreTiles);
    expect(await s.tileCoverage(A)).toBe(600);
    expect(await verifyLog({ origin: A, records: s.scan(A) })).toMatchObject({ ok: true, records: 600 });
  });

  it('STORE_FULL at the page ceiling stores nothing of records or tiles; with room again both continue', async () => {
    let s = open({ maxPageCount: 100 });
    let offset = 0;
    let fillerIndex = 0;
    let full: unknown;
    for (let i = 0; i < 100 && full === undefined; i++) {
      const head = await s.head(A);
      const batch = sampleRecords(head, 5, offset);
      // The tiles dominate each batch (≈ 80 KiB of filler tiles against ≈ 5 KiB of records).
      const tiles = [
        ...tilesFor(batch, head.size, await s.readTiles(A, rightEdgeTiles(head.size))),
        ...Array.from({ length: 10 }, () => fullTile(FILLER, 0, fillerIndex++)),
      ];
      const before = {
        head,
        rows: count('access_log'),
        tiles: count('merkle_tiles'),
        coverage: await s.tileCoverage(A),
      };
      try {
        s.appendSync(batch, undefined, tiles);
        offset += 5;
      } catch (err) {
        full = err;
        const after = {
          head: await s.head(A),
          rows: count('access_log'),
          tiles: count('merkle_tiles'),
          coverage: await s.tileCoverage(A),
        };
        expect(after).toEqual(before);
        // A tiles-only write and a checkpoint are refused the same way.
        await expect(
          s.putTiles([fullTile(FILLER, 0, fillerIndex++), fullTile(FILLER, 0, fillerIndex++)]),
        ).rejects.toMatchObject({
          code: 'STORE_FULL',
        });
        expect(count('merkle_tiles')).toBe(before.tiles);
      }
    }
    expect(full).toMatchObject({ code: 'STORE_FULL', cause: expect.objectContaining({ code: 'SQLITE_FULL' }) });
    const stored = (await s.head(A)).size;
    expect(stored).toBeGreaterThan(0);
    expect(await s.tileCoverage(A)).toBe(stored);
    await s.close();

    s = open({ maxPageCount: 10_000 });
    const head = await s.head(A);
    const batch = sampleRecords(head, 300, offset);
    s.appendSync(batch, undefined, tilesFor(batch, head.size, await s.readTiles(A, rightEdgeTiles(head.size))));
    expect(await s.tileCoverage(A)).toBe(stored + 300);
    expect(await verifyLog({ origin: A, records: s.scan(A) })).toMatchObject({ ok: true, records: stored + 300 });
  });

  it('lookups use their indexes, never a pass over the whole table', () => {
    open();
    const db = raw();
    const plan = (text: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${text}`)
        .all(...Array.from({ length: (text.match(/\?/g) ?? []).length }, () => 'x'))
        .map((r) => (r as { detail: string }).detail)
        .join('; ');
    expect(plan(sql.SELECT_RECORDS_AT)).toMatch(
      /SEARCH access_log USING INDEX access_log_by_log \(log=\? AND idx=\?\)/,
    );
    expect(plan(sql.SELECT_RECORDS_BY_EVENT_ID)).toMatch(
      /SEARCH access_log USING INDEX access_log_by_tenant_event \(tenant=\? AND event_id=\?\)/,
    );
    expect(plan(sql.SELECT_TILE)).toMatch(/SEARCH merkle_tiles USING PRIMARY KEY/);
    expect(plan(sql.SELECT_TILE_COVERAGE)).toMatch(/SEARCH merkle_tiles USING PRIMARY KEY \(log=\? AND level=\?\)/);
    expect(plan(sql.SELECT_CHECKPOINTS)).toMatch(/SEARCH checkpoints USING INDEX checkpoints_by_log \(log=\?\)/);
    expect(plan(sql.SELECT_LATEST_CHECKPOINT)).toMatch(/SEARCH checkpoints USING INDEX checkpoints_by_log \(log=\?\)/);
    db.close();
  });

  it('an identical checkpoint is stored once; anything else beside it', async () => {
    const s = open();
    const c = { origin: A, size: 5, rootHex: 'ab'.repeat(32), note: 'note\n', signedAt: 10 };
    await s.putCheckpoint(c);
    await s.putCheckpoint({ ...c });
    await s.putCheckpoint({ ...c, signedAt: 11 });
    expect(count('checkpoints')).toBe(2);
    expect(await s.checkpoints(A)).toEqual([c, { ...c, signedAt: 11 }]);
  });

  it('read-only stores read proofs but refuse tile and checkpoint writes; closed stores refuse everything', async () => {
    const writer = open();
    const records = sampleRecords(A, 10, 0);
    writer.appendSync(records, undefined, tilesFor(records, 0, []));
    const c = { origin: A, size: 10, rootHex: 'cd'.repeat(32), note: 'note\n', signedAt: 1 };
    await writer.putCheckpoint(c);
    const reader = open({ readonly: true });
    expect(await reader.latestCheckpoint(A)).toEqual(c);
    expect(await reader.checkpointedLogs()).toEqual([A]);
    expect(await reader.recordsAt(A, [9])).toEqual([records[9]]);
    expect(await reader.recordsByEventId('clinic-a', ['evt-3'])).toEqual([records[3]]);
    expect(await reader.tileCoverage(A)).toBe(10);
    await expect(reader.putTiles([fullTile(A, 0, 1)])).rejects.toMatchObject({ code: 'STORE_READONLY' });
    await expect(reader.putCheckpoint(c)).rejects.toMatchObject({ code: 'STORE_READONLY' });
    await expect(reader.append([], [fullTile(A, 0, 1)])).rejects.toMatchObject({ code: 'STORE_READONLY' });

    await writer.close();
    await expect(writer.putTiles([])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(writer.readTiles(A, [{ level: 0, index: 0 }])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(writer.latestCheckpoint(A)).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(writer.recordsAt(A, [0])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(writer.recordsByEventId('clinic-a', ['evt-0'])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
