/**
 * Append throughput of the SQLite store against its ceiling: a raw better-sqlite3 insert of
 * the identical rows (same schema, indexes and pragmas, one prepared statement, one
 * transaction per batch). Reports records/s for both and their ratio; asserts nothing about
 * speed (benchmarks report ratios, tests never time things).
 *
 *   npx tsx -e "import('./packages/store-sqlite/src/testing/append-throughput.ts').then((m) => m.printAppendThroughput())"
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createChainBuilder, emptyHead, type LedgerRecord } from '@phi-audit/ledger';
import { ACCESS_LOG_COLUMNS, rowFromRecord } from '../access-log-row.js';
import { embeddedOrigin } from '../embedded-layout.js';
import { createSqliteLedgerStore } from '../sqlite-ledger-store.js';
import { INSERT_ROW } from '../statements.js';

export interface AppendThroughput {
  storeRecordsPerSecond: number;
  rawRecordsPerSecond: number;
  /** store / raw. */
  ratio: number;
  /** The two database files of the last round (kept only when `dir` was given). */
  storeFile: string;
  rawFile: string;
}

function benchRecords(count: number): LedgerRecord[] {
  const builder = createChainBuilder(emptyHead(embeddedOrigin('clinic-a')));
  return Array.from({ length: count }, (_, i) =>
    builder.append({
      sourceOffset: i,
      event: {
        eventId: `bench-${i}`,
        tenant: 'clinic-a',
        occurredAt: 1_714_573_800_000 + i * 1000,
        receivedAt: 1_714_573_800_500 + i * 1000,
        source: { system: 'ehr', site: 'main' },
        actor: { userId: `u${i % 97}`, role: 'physician', department: 'cardiology', workstation: 'ws-12' },
        patient: { id: `p${i % 1009}` },
        action: 'view',
        resource: { type: 'Encounter', id: `enc-${i}` },
        outcome: 'success',
      },
    }),
  );
}

const perSecond = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Median over `rounds` of appending `batches` × `batchSize` records, store vs raw, each into a fresh file. */
export async function measureAppendThroughput(
  options: { batches?: number; batchSize?: number; rounds?: number; dir?: string } = {},
): Promise<AppendThroughput> {
  const { batches = 200, batchSize = 500, rounds = 3 } = options;
  const all = benchRecords(batches * batchSize);
  const slices = Array.from({ length: batches }, (_, b) => all.slice(b * batchSize, (b + 1) * batchSize));
  // The raw side gets its parameters precomputed: the ceiling is SQLite alone.
  const rawParams = slices.map((s) =>
    s.map((r) => {
      const row = rowFromRecord(r);
      return [row.source_offset, ...ACCESS_LOG_COLUMNS.map((c) => row[c])];
    }),
  );
  const store: number[] = [];
  const raw: number[] = [];
  let files = { storeFile: '', rawFile: '' };
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(options.dir ?? tmpdir(), 'phi-audit-append-'));
    files = { storeFile: join(dir, 'store.sqlite'), rawFile: join(dir, 'raw.sqlite') };
    try {
      // Same schema and indexes on both sides: the store creates the raw file's schema, then a plain connection writes.
      await createSqliteLedgerStore({ file: files.rawFile }).close();
      const db = new Database(files.rawFile);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const insert = db.prepare(INSERT_ROW);
      const insertMany = db.transaction((rows: unknown[][]) => {
        for (const row of rows) insert.run(row);
      });
      let t = performance.now();
      for (const batch of rawParams) insertMany.immediate(batch);
      raw.push(perSecond(all.length, performance.now() - t));
      db.close();

      const s = createSqliteLedgerStore({ file: files.storeFile });
      t = performance.now();
      for (const batch of slices) s.appendSync(batch);
      store.push(perSecond(all.length, performance.now() - t));
      await s.close();
    } finally {
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    }
  }
  const storeRecordsPerSecond = median(store);
  const rawRecordsPerSecond = median(raw);
  return { storeRecordsPerSecond, rawRecordsPerSecond, ratio: storeRecordsPerSecond / rawRecordsPerSecond, ...files };
}

/** Prints one line: both rates and their ratio. */
export async function printAppendThroughput(): Promise<void> {
  const r = await measureAppendThroughput();
  console.log(
    `appendSync, 200 batches × 500 records (median of 3): ${r.storeRecordsPerSecond} records/s; ` +
      `raw better-sqlite3 insert of the same rows: ${r.rawRecordsPerSecond} records/s; ratio ${r.ratio.toFixed(2)}`,
  );
}
