import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createChainBuilder,
  emptyHead,
  type LedgerRecord,
  type StoredRecord,
  type VerifiableStore,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, ledgerFileIn } from '@phi-audit/store-sqlite';
import { registerVerifyCommand, resolveVerifyTarget, runVerify, runVerifyCommand } from './verify.js';

function event(i: number): AccessEvent {
  return {
    eventId: `evt-${i}`,
    tenant: 'clinic-a',
    occurredAt: 1_714_573_800_000 + i,
    receivedAt: 1_714_573_800_500 + i,
    source: { system: 'ehr' },
    actor: { userId: `u${i % 3}` },
    patient: { id: `p${i % 5}` },
    action: 'view',
    resource: { type: 'Encounter' },
    outcome: 'success',
  };
}

function log(origin: string, n: number): LedgerRecord[] {
  const b = createChainBuilder(emptyHead(origin));
  return Array.from({ length: n }, (_, i) => b.append({ sourceOffset: i, event: event(i) }));
}

/** Test input for a pure function: rows held in arrays, served through the read interface. */
function arrayStore(logs: Record<string, StoredRecord[]>, failScan?: Error): VerifiableStore {
  return {
    heads: () =>
      Promise.resolve(
        Object.entries(logs).map(([origin, rows]) => {
          const last = rows.reduce<StoredRecord | undefined>(
            (m, r) => (m === undefined || r.index >= m.index ? r : m),
            undefined,
          );
          return last === undefined
            ? emptyHead(origin)
            : { origin, size: last.index + 1, chain: last.chain, lastSourceOffset: last.sourceOffset };
        }),
      ),
    async *scan(origin: string) {
      for (const r of logs[origin] ?? []) {
        if (failScan !== undefined && r.index === 3) throw failScan;
        yield await Promise.resolve(r);
      }
    },
  };
}

function sink(isTTY = false): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  if (isTTY)
    Object.assign(w, {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
  return Object.assign(w, { text: () => chunks.join('') });
}

const A = 'phi-audit/access-events/0';
const B = 'phi-audit/access-events/1';

describe('runVerify', () => {
  it('prints one OK line per log and a summary, exit 0', async () => {
    const out = sink();
    const code = await runVerify({ store: arrayStore({ [B]: log(B, 7), [A]: log(A, 12) }), out, isTTY: false });
    expect(code).toBe(0);
    expect(out.text()).toBe(`${A}  12 records  OK\n${B}  7 records  OK\nverified 2 logs, 19 records: all OK\n`);
  });

  it('names the failing log, index, kind and message; exit 1; other logs still verified', async () => {
    const tampered = log(A, 12).map((r) =>
      r.index === 5 ? { ...r, eventJson: canonicalJson({ ...event(5), patient: { id: 'p-other' } }) } : r,
    );
    const out = sink();
    const code = await runVerify({ store: arrayStore({ [A]: tampered, [B]: log(B, 7) }), out, isTTY: false });
    expect(code).toBe(1);
    const lines = out.text().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${A}  12 records  FAILED at index 5: leaf_hash_mismatch: record 5: `));
    expect(lines[1]).toBe(`${B}  7 records  OK`);
    expect(lines[2]).toBe('verified 2 logs: 1 OK, 1 FAILED');
    expect(out.text()).not.toContain('p-other');
  });

  it.each([
    ['a deleted middle row', (rows: StoredRecord[]) => rows.filter((r) => r.index !== 4), 4, 'index_gap'],
    [
      'a duplicated row',
      (rows: StoredRecord[]) => [...rows.slice(0, 3), rows[2] as StoredRecord, ...rows.slice(3)],
      2,
      'index_duplicate',
    ],
    [
      'a store-reported column mismatch',
      (rows: StoredRecord[]) => rows.map((r) => (r.index === 6 ? { ...r, columnMismatch: 'user_id' } : r)),
      6,
      'column_mismatch',
    ],
  ])('reports %s', async (_what, tamper, index, kind) => {
    const out = sink();
    expect(await runVerify({ store: arrayStore({ [A]: tamper(log(A, 10)) }), out, isTTY: false })).toBe(1);
    expect(out.text()).toContain(`FAILED at index ${index}: ${kind}: `);
  });

  it('verifies only the requested logs', async () => {
    const out = sink();
    const code = await runVerify({
      store: arrayStore({ [A]: log(A, 3).slice(1), [B]: log(B, 2) }),
      out,
      isTTY: false,
      origins: [B],
    });
    expect(code).toBe(0);
    expect(out.text()).toBe(`${B}  2 records  OK\nverified 1 log, 2 records: all OK\n`);
  });

  it('refuses an unknown log with exit 2', async () => {
    const out = sink();
    const err = sink();
    expect(await runVerify({ store: arrayStore({ [A]: log(A, 2) }), out, err, isTTY: false, origins: ['nope'] })).toBe(
      2,
    );
    expect(err.text()).toBe(`error: no log named "nope" in the store (logs: ${A})\n`);
    expect(out.text()).toBe('');
  });

  it('says so when the store has no logs, exit 0', async () => {
    const out = sink();
    expect(await runVerify({ store: arrayStore({}), out, isTTY: false })).toBe(0);
    expect(out.text()).toBe('no logs in the store: nothing to verify\n');
  });

  it('turns a store failure into a clear message and exit 2, without a stack trace', async () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const out = sink();
    const code = await runVerify({
      store: arrayStore({ [A]: log(A, 5) }, new Error('scanning a log failed', { cause })),
      out,
      isTTY: false,
    });
    expect(code).toBe(2);
    expect(out.text()).toBe('error: cannot read the ledger: scanning a log failed (ECONNREFUSED)\n');
    const failingHeads: VerifiableStore = {
      heads: () => Promise.reject(new Error('reading log heads failed')),
      scan: arrayStore({}).scan,
    };
    const out2 = sink();
    expect(await runVerify({ store: failingHeads, out: out2, isTTY: false })).toBe(2);
    expect(out2.text()).toBe('error: cannot read the ledger: reading log heads failed\n');
  });

  it('fails a log whose scan ends before the store head', async () => {
    const rows = log(A, 6);
    const store = arrayStore({ [A]: rows });
    const short: VerifiableStore = {
      heads: store.heads,
      scan: (origin) => arrayStore({ [origin]: rows.slice(0, 4) }).scan(origin),
    };
    const out = sink();
    expect(await runVerify({ store: short, out, isTTY: false })).toBe(1);
    expect(out.text()).toContain(`${A}  6 records  FAILED at index 4: index_gap: records 4 to 5 are missing`);
  });

  it('draws a progress bar on a TTY and still prints the result lines', async () => {
    const out = sink(true);
    expect(await runVerify({ store: arrayStore({ [A]: log(A, 2100) }), out, isTTY: true })).toBe(0);
    const text = out.text();
    expect(text).toContain('records | ETA');
    expect(text).toContain(`${A}  2100 records  OK\n`);
    expect(text.endsWith('verified 1 log, 2100 records: all OK\n')).toBe(true);
  });
});

describe('resolveVerifyTarget', () => {
  const none = () => false;
  const dataLedger = (path: string) => path === ledgerFileIn('data');

  it('takes exactly one of --data and --clickhouse', () => {
    expect(resolveVerifyTarget({ data: '/d', env: {}, exists: none })).toEqual({
      kind: 'data',
      dir: '/d',
      file: ledgerFileIn('/d'),
      reason: '--data',
    });
    expect(resolveVerifyTarget({ clickhouse: 'http://h:1', env: { PHI_AUDIT_DATA_DIR: '/e' }, exists: none })).toEqual({
      kind: 'clickhouse',
      url: 'http://h:1',
      reason: '--clickhouse',
    });
    expect(resolveVerifyTarget({ data: '/d', clickhouse: 'http://h:1', env: {}, exists: none })).toEqual({
      kind: 'usage',
      message: 'use either --data <dir> or --clickhouse <url>, not both',
    });
    expect(resolveVerifyTarget({ data: '/d', database: 'x', env: {}, exists: none }).kind).toBe('usage');
  });

  it('with neither: $PHI_AUDIT_DATA_DIR, then ./data when it holds a ledger, then $CLICKHOUSE_URL', () => {
    const env = { PHI_AUDIT_DATA_DIR: '/e', CLICKHOUSE_URL: 'http://h:1' };
    expect(resolveVerifyTarget({ env, exists: dataLedger })).toMatchObject({ kind: 'data', dir: '/e' });
    expect(resolveVerifyTarget({ env: { CLICKHOUSE_URL: 'http://h:1' }, exists: dataLedger })).toMatchObject({
      kind: 'data',
      dir: 'data',
      reason: './data',
    });
    expect(resolveVerifyTarget({ env: { CLICKHOUSE_URL: 'http://h:1' }, exists: none })).toMatchObject({
      kind: 'clickhouse',
      url: 'http://h:1',
    });
    const neither = resolveVerifyTarget({ env: {}, exists: none });
    expect(neither.kind).toBe('usage');
    expect(neither.kind === 'usage' && neither.message).toMatch(/--data <dir>.*--clickhouse <url>/);
  });
});

describe('runVerifyCommand on an embedded (SQLite) ledger', () => {
  async function withLedger(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'phi-audit-verify-'));
    try {
      const store = createSqliteLedgerStore({ file: ledgerFileIn(dir) });
      const origin = embeddedOrigin('clinic-a');
      store.appendSync(log(origin, 20));
      await store.close();
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const run = async (options: Parameters<typeof runVerifyCommand>[0], env: NodeJS.ProcessEnv = {}) => {
    const out = sink();
    const err = sink();
    const code = await runVerifyCommand(options, { out, err, isTTY: false, env });
    return { code, out: out.text(), err: err.text() };
  };

  it('verifies <dir>/ledger.sqlite read-only from --data or $PHI_AUDIT_DATA_DIR', async () => {
    await withLedger(async (dir) => {
      const origin = embeddedOrigin('clinic-a');
      expect(await run({ data: dir })).toEqual({
        code: 0,
        out: `${origin}  20 records  OK\nverified 1 log, 20 records: all OK\n`,
        err: '',
      });
      const viaEnv = await run({}, { PHI_AUDIT_DATA_DIR: dir, CLICKHOUSE_URL: 'http://127.0.0.1:1' });
      expect(viaEnv.code).toBe(0);
      expect(viaEnv.err).toContain(`embedded ledger ${ledgerFileIn(dir)} ($PHI_AUDIT_DATA_DIR)`);
    });
  });

  it('names the tampered index with exit 1', async () => {
    await withLedger(async (dir) => {
      const db = new Database(ledgerFileIn(dir));
      db.prepare('UPDATE access_log SET workstation = ? WHERE idx = 13').run('ws-forged');
      db.close();
      const result = await run({ data: dir });
      expect(result.code).toBe(1);
      expect(result.out).toContain('FAILED at index 13: column_mismatch: ');
    });
  });

  it('exit 2 with a clear message for a directory without a ledger, or for both sources', async () => {
    const missing = join(tmpdir(), 'phi-audit-no-such-dir-7c1e');
    expect(await run({ data: missing })).toEqual({
      code: 2,
      out: '',
      err: `phi-audit verify: no ledger database at ${ledgerFileIn(missing)}\n`,
    });
    const both = await run({ data: missing, clickhouse: 'http://127.0.0.1:1' });
    expect(both).toMatchObject({ code: 2, out: '' });
    expect(both.err).toBe('phi-audit verify: use either --data <dir> or --clickhouse <url>, not both\n');
  });
});

describe('registerVerifyCommand', () => {
  it('adds `verify` with --data, --clickhouse, --database and repeatable --log', () => {
    const program = new Command();
    registerVerifyCommand(program);
    const cmd = program.commands.find((c) => c.name() === 'verify');
    expect(cmd?.options.map((o) => o.long)).toEqual(['--data', '--clickhouse', '--database', '--log']);
    expect(cmd?.options.find((o) => o.long === '--log')?.variadic).toBe(true);
  });
});
