import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyLog } from '@phi-audit/ledger';
import { embeddedOrigin, KEYS_FILE, keysFileIn, LEDGER_FILE, ledgerFileIn } from './embedded-layout.js';
import { idempotencyKeyOf } from './idempotency-key.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import { createSqliteLedgerStore, type SqliteLedgerStore } from './sqlite-ledger-store.js';
import { SELECT_ACCESS_VOLUME_DAY, SELECT_ACCESS_VOLUME_HOUR } from './statements.js';
import { measureAppendThroughput } from './testing/append-throughput.js';
import { sampleEvent, sampleRecords } from './testing/sample-records.js';

const A = embeddedOrigin('clinic-a');
const B = embeddedOrigin('clinic-b');

describe('SQLite ledger store (real files)', () => {
  let dir: string;
  let file: string;
  const opened: SqliteLedgerStore[] = [];
  const open = (options: { maxPageCount?: number; readonly?: boolean } = {}) => {
    const s = createSqliteLedgerStore({ file, ...options });
    opened.push(s);
    return s;
  };
  /** A raw connection, for what the store must not be able to do and for inspecting the file. */
  const raw = (readonly = true) => new Database(file, { readonly });
  const rowCount = () => {
    const db = raw();
    try {
      return (db.prepare('SELECT count(*) AS n FROM access_log').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-audit-sqlite-'));
    file = ledgerFileIn(join(dir, 'data'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the data-directory files and embedded origins the runtime and CLI share', () => {
    expect([LEDGER_FILE, KEYS_FILE]).toEqual(['ledger.sqlite', 'ingest-keys.json']);
    expect(keysFileIn('/d')).toBe(join('/d', 'ingest-keys.json'));
    expect(embeddedOrigin('clinic-a')).toBe('phi-audit/embedded/clinic-a');
  });

  it('creates the directory and a 0600 file; WAL, synchronous=FULL and the page ceiling are in effect', () => {
    const s = open({ maxPageCount: 5_000 });
    expect(s.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(s.pragmas()).toEqual({
      journalMode: 'wal',
      synchronous: 2,
      maxPageCount: 5_000,
      busyTimeoutMs: 5_000,
      readonly: false,
    });
    // WAL is a property of the file: a separate connection sees it too.
    const db = raw();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('migrations are idempotent: each recorded once, data kept across reopenings', async () => {
    const s = open();
    s.appendSync(sampleRecords(A, 3, 0));
    await s.close();
    for (let i = 0; i < 2; i++) await open().close();
    const db = raw();
    expect(LATEST_SCHEMA_VERSION).toBe(3);
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
    ]);
    const indexes = db
      .prepare(
        "SELECT tbl_name, name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY tbl_name, name",
      )
      .all();
    expect(indexes).toEqual([
      { tbl_name: 'access_log', name: 'access_log_by_event' },
      { tbl_name: 'access_log', name: 'access_log_by_log' },
      { tbl_name: 'access_log', name: 'access_log_by_patient' },
      { tbl_name: 'access_log', name: 'access_log_by_tenant_event' },
      { tbl_name: 'access_log', name: 'access_log_by_tenant_time' },
      { tbl_name: 'access_log', name: 'access_log_by_user' },
      { tbl_name: 'checkpoints', name: 'checkpoints_by_log' },
    ]);
    db.close();
    expect((await open().head(A)).size).toBe(3);
  });

  it('the access volume reads one range of the covering (tenant, occurred_ms) index, never the table', async () => {
    const s = open();
    s.appendSync(sampleRecords(A, 50, 0));
    s.appendSync(sampleRecords(B, 50, 1_000));
    await s.close();
    const db = raw(false);
    const plans = () =>
      [SELECT_ACCESS_VOLUME_HOUR, SELECT_ACCESS_VOLUME_DAY].map((text) =>
        db
          .prepare<[string, number, number], { detail: string }>(`EXPLAIN QUERY PLAN ${text}`)
          .all('clinic-a', 0, 1)
          .map((r) => r.detail)
          .filter((d) => d.includes('access_log')),
      );
    const range =
      'SEARCH access_log USING COVERING INDEX access_log_by_tenant_time (tenant=? AND occurred_ms>? AND occurred_ms<?)';
    expect(plans()).toEqual([[range], [range]]);
    // The same once the planner has statistics (ANALYZE, as `PRAGMA optimize` would run it).
    db.exec('ANALYZE');
    expect(plans()).toEqual([[range], [range]]);
    db.close();
  });

  it('refuses a database newer than this build, read-write and read-only', async () => {
    await open().close();
    const db = raw(false);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (99, ?, 0)').run('future');
    db.close();
    expect(() => open()).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA_TOO_NEW' }));
    expect(() => open({ readonly: true })).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA_TOO_NEW' }));
  });

  it('a failing migration is rolled back and reported; nothing is recorded as applied', () => {
    // A table already named access_log (another program's file): migration 1 cannot create its own.
    const squatter = new Database(join(dir, 'squat.sqlite'));
    squatter.exec('CREATE TABLE access_log (x)');
    squatter.close();
    expect(() => createSqliteLedgerStore({ file: join(dir, 'squat.sqlite') })).toThrow(
      expect.objectContaining({ code: 'STORE_MIGRATION_FAILED' }),
    );
    const check = new Database(join(dir, 'squat.sqlite'), { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 0 });
    expect(check.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'index'").get()).toEqual({ n: 0 });
    check.close();
  });

  it('read-only: a missing file is an error (and is not created); a non-ledger file is refused', () => {
    expect(() => open({ readonly: true })).toThrow(expect.objectContaining({ code: 'STORE_OPEN_FAILED' }));
    expect(existsSync(file)).toBe(false);
    const other = new Database(join(dir, 'other.sqlite'));
    other.exec('CREATE TABLE t (x)');
    other.close();
    expect(() => createSqliteLedgerStore({ file: join(dir, 'other.sqlite'), readonly: true })).toThrow(
      expect.objectContaining({ code: 'STORE_SCHEMA_OUTDATED' }),
    );
    writeFileSync(join(dir, 'garbage.sqlite'), 'this is not a database, just text '.repeat(200));
    expect(() => createSqliteLedgerStore({ file: join(dir, 'garbage.sqlite') })).toThrow(
      expect.objectContaining({ code: 'STORE_OPEN_FAILED' }),
    );
  });

  it('read-only cannot write, and reads what a concurrent writer commits', async () => {
    const writer = open();
    const first = sampleRecords(A, 10, 0);
    writer.appendSync(first);
    const reader = open({ readonly: true });
    expect(reader.pragmas().readonly).toBe(true);
    const more = sampleRecords(await reader.head(A), 5, 10);
    expect(() => reader.appendSync(more)).toThrow(expect.objectContaining({ code: 'STORE_READONLY' }));
    await expect(reader.append(more)).rejects.toMatchObject({ code: 'STORE_READONLY' });
    expect(rowCount()).toBe(10);
    writer.appendSync(more);
    expect(await reader.head(A)).toEqual(await writer.head(A));
    expect(await verifyLog({ origin: A, records: reader.scan(A) })).toMatchObject({ ok: true, records: 15 });
  });

  it('STORE_FULL at the page ceiling stores nothing of the batch; with room again the log continues and verifies', async () => {
    let s = open({ maxPageCount: 48 });
    let offset = 0;
    let full: unknown;
    for (let i = 0; i < 100 && full === undefined; i++) {
      const batch = sampleRecords(await s.head(A), 25, offset);
      const before = { head: await s.head(A), rows: rowCount(), last: s.lastSourceOffset() };
      try {
        s.appendSync(batch);
        offset += 25;
      } catch (err) {
        full = err;
        expect({ head: await s.head(A), rows: rowCount(), last: s.lastSourceOffset() }).toEqual(before);
      }
    }
    expect(full).toMatchObject({ code: 'STORE_FULL', cause: expect.objectContaining({ code: 'SQLITE_FULL' }) });
    const stored = (await s.head(A)).size;
    expect(stored).toBeGreaterThan(0);
    // Reads still work on the full store.
    expect(await verifyLog({ origin: A, records: s.scan(A) })).toMatchObject({ ok: true, records: stored });
    await s.close();
    s = open({ maxPageCount: 10_000 });
    s.appendSync(sampleRecords(await s.head(A), 200, offset));
    expect(await verifyLog({ origin: A, records: s.scan(A) })).toMatchObject({ ok: true, records: stored + 200 });
  });

  it('a batch the database rejects part-way (a source offset already stored) leaves nothing: STORE_INSERT_FAILED', async () => {
    const s = open();
    s.appendSync(sampleRecords(A, 5, 100));
    // Log B's last record reuses offset 100, the global sequence key of A's first row.
    const batch = sampleRecords(B, 30, 71);
    const err = (() => {
      try {
        s.appendSync(batch);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toMatchObject({
      code: 'STORE_INSERT_FAILED',
      cause: expect.objectContaining({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }),
    });
    expect(await s.head(B)).toMatchObject({ size: 0 });
    expect(rowCount()).toBe(5);
    expect(s.lastSourceOffset()).toBe(104);
  });

  it('existingKeys names exactly the stored (tenant, source, event id) keys, in any log', () => {
    const s = open();
    const tricky = 'e\u0000"\'😀';
    s.appendSync(sampleRecords(A, 3, 0, (i) => sampleEvent(i, { eventId: i === 2 ? tricky : `evt-${i}` })));
    s.appendSync(sampleRecords(B, 2, 10, (i) => sampleEvent(i, { tenant: 'clinic-b', source: { system: 'lab' } })));
    const key = (tenant: string, sourceSystem: string, eventId: string) => ({ tenant, sourceSystem, eventId });
    const asked = [
      key('clinic-a', 'ehr', 'evt-0'),
      key('clinic-a', 'ehr', tricky),
      key('clinic-a', 'ehr', 'evt-2'),
      key('clinic-a', 'lab', 'evt-1'),
      key('clinic-b', 'ehr', 'evt-1'),
      key('clinic-b', 'lab', 'evt-1'),
      key('clinic-c', 'ehr', 'evt-0'),
    ];
    expect(s.existingKeys(asked)).toEqual(new Set([asked[0]!, asked[1]!, asked[5]!].map(idempotencyKeyOf)));
    expect(s.existingKeys([])).toEqual(new Set());
    expect(() => s.existingKeys([key('clinic-a', 'ehr', '\ud800')])).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID_VALUE' }),
    );
    // Injective even for ids containing the characters a naive join would use.
    expect(idempotencyKeyOf(key('a', 'b\u0000c', 'd'))).not.toBe(idempotencyKeyOf(key('a', 'b', 'c\u0000d')));
  });

  it('lastSourceOffset is the highest offset over all logs, -1 when empty, and survives a reopen', async () => {
    let s = open();
    expect(s.lastSourceOffset()).toBe(-1);
    s.appendSync(sampleRecords(A, 3, 0));
    s.appendSync(sampleRecords(B, 4, 3));
    s.appendSync(sampleRecords(await s.head(A), 2, 7));
    expect(s.lastSourceOffset()).toBe(8);
    await s.close();
    s = open();
    expect(s.lastSourceOffset()).toBe(8);
  });

  it('appends on the same connection while a scan is paused between rows', async () => {
    const s = open();
    s.appendSync(sampleRecords(A, 2_500, 0));
    const seen: number[] = [];
    for await (const r of s.scan(A)) {
      seen.push(r.index);
      if (r.index === 0) s.appendSync(sampleRecords(await s.head(A), 10, 10_000));
    }
    expect(seen).toEqual(Array.from({ length: 2_510 }, (_, i) => i));
  });

  it('validates options and refuses work after close', async () => {
    expect(() => createSqliteLedgerStore({ file: '' })).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID_OPTIONS' }),
    );
    expect(() => open({ maxPageCount: 0 })).toThrow(expect.objectContaining({ code: 'STORE_INVALID_OPTIONS' }));
    const s = open();
    await s.close();
    await s.close();
    expect(() => s.appendSync(sampleRecords(A, 1, 0))).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }));
    await expect(s.heads()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    expect(() => s.lastSourceOffset()).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }));
  });

  it('the append benchmark compares like with like: its raw baseline writes the very rows the store writes', async () => {
    const r = await measureAppendThroughput({ batches: 3, batchSize: 50, rounds: 1, dir });
    const dump = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare('SELECT * FROM access_log ORDER BY seq').all();
      } finally {
        db.close();
      }
    };
    const rows = dump(r.storeFile);
    expect(rows).toHaveLength(150);
    expect(dump(r.rawFile)).toEqual(rows);
    expect(r.storeRecordsPerSecond).toBeGreaterThan(0);
    expect(r.rawRecordsPerSecond).toBeGreaterThan(0);
  });
});
