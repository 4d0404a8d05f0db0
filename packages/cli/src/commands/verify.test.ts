import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createSigningKeyFile, exportFileName } from '@phi-audit/checkpoints';
import {
  canonicalJson,
  createChainBuilder,
  createTileBuilder,
  emptyHead,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  rootOfLeafHashes,
  signCheckpoint,
  type LedgerRecord,
  type LogTile,
  type NoteSigner,
  type StoredCheckpoint,
  type StoredRecord,
  type VerifiableStore,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, ledgerFileIn } from '@phi-audit/store-sqlite';
import {
  registerVerifyCommand,
  resolveTrustInputs,
  resolveVerifyTarget,
  runVerify,
  runVerifyCommand,
} from './verify.js';

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

/** Tiles of `rows` (clean or not) as a writer would have stored them. */
function tilesOf(origin: string, rows: readonly StoredRecord[]): LogTile[] {
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  builder.append(rows.map((r) => Buffer.from(r.leafHash, 'hex')));
  return builder.takeChanged().map((t) => ({ ...t, origin }));
}

/** A checkpoint signed over the first `size` records of `rows`. */
function checkpointOf(rows: readonly LedgerRecord[], size: number, signer: NoteSigner): StoredCheckpoint {
  const origin = rows[0]!.origin;
  const root = rootOfLeafHashes(rows.slice(0, size).map((r) => Buffer.from(r.leafHash, 'hex')));
  return {
    origin,
    size,
    rootHex: root.toString('hex'),
    note: signCheckpoint({ origin, size, root }, signer),
    signedAt: 1,
  };
}

/** Test input for a pure function: rows held in arrays, served through the read interface. */
function arrayStore(
  logs: Record<string, StoredRecord[]>,
  failScan?: Error,
  checkpoints: Record<string, StoredCheckpoint[]> = {},
): VerifiableStore {
  return {
    heads: () =>
      Promise.resolve(
        Object.entries(logs).flatMap(([origin, rows]) => {
          const last = rows.reduce<StoredRecord | undefined>(
            (m, r) => (m === undefined || r.index >= m.index ? r : m),
            undefined,
          );
          return last === undefined
            ? []
            : [{ origin, size: last.index + 1, chain: last.chain, lastSourceOffset: last.sourceOffset }];
        }),
      ),
    async *scan(origin: string) {
      for (const r of logs[origin] ?? []) {
        if (failScan !== undefined && r.index === 3) throw failScan;
        yield await Promise.resolve(r);
      }
    },
    checkpoints: (origin) => Promise.resolve(checkpoints[origin] ?? []),
    checkpointedLogs: () => Promise.resolve(Object.keys(checkpoints).sort()),
    readTiles: (origin, ids) =>
      Promise.resolve(
        tilesOf(origin, logs[origin] ?? []).filter((t) =>
          ids.some((id) => id.level === t.level && id.index === t.index),
        ),
      ),
    tileCoverage: () => Promise.resolve(0),
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
      ...arrayStore({}),
      heads: () => Promise.reject(new Error('reading log heads failed')),
    };
    const out2 = sink();
    expect(await runVerify({ store: failingHeads, out: out2, isTTY: false })).toBe(2);
    expect(out2.text()).toBe('error: cannot read the ledger: reading log heads failed\n');
  });

  it('fails a log whose scan ends before the store head', async () => {
    const rows = log(A, 6);
    const store = arrayStore({ [A]: rows });
    const short: VerifiableStore = {
      ...store,
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
      const rows = log(origin, 20);
      store.appendSync(rows, undefined, tilesOf(origin, rows));
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
    expect(cmd?.options.map((o) => o.long)).toEqual([
      '--data',
      '--clickhouse',
      '--database',
      '--log',
      '--key',
      '--trusted',
      '--checkpoints',
    ]);
    expect(cmd?.options.find((o) => o.long === '--log')?.variadic).toBe(true);
  });
});

describe('runVerify with signed checkpoints', () => {
  const keys = generateNoteKey('phi-audit.verify-test');
  const signer = parseSignerKey(keys.signerKey);
  const verifiers = [parseVerifierKey(keys.verifierKey)];

  it('checks the store checkpoints and prints how many matched', async () => {
    const rows = log(A, 12);
    const store = arrayStore({ [A]: rows }, undefined, {
      [A]: [checkpointOf(rows, 5, signer), checkpointOf(rows, 12, signer)],
    });
    const out = sink();
    expect(await runVerify({ store, out, isTTY: false, verifiers })).toBe(0);
    expect(out.text()).toBe(
      `${A}  12 records  2 checkpoints (latest size 12)  OK\nverified 1 log, 12 records: all OK\n`,
    );
  });

  it('exit 2 when the store holds checkpoints but no verifier key is given', async () => {
    const rows = log(A, 4);
    const store = arrayStore({ [A]: rows }, undefined, { [A]: [checkpointOf(rows, 4, signer)] });
    const out = sink();
    const err = sink();
    expect(await runVerify({ store, out, err, isTTY: false })).toBe(2);
    expect(err.text()).toMatch(/the store holds signed checkpoints but no verifier key is available.*--key/);
    expect(out.text()).toBe('');
    const trusted = [{ note: checkpointOf(rows, 4, signer).note, source: '/saved.checkpoint' }];
    expect(await runVerify({ store: arrayStore({ [A]: rows }), out, err, isTTY: false, trusted })).toBe(2);
    expect(err.text()).toMatch(/trusted checkpoints were given but no verifier key/);
  });

  it('a deleted tail is caught against a trusted checkpoint; a log whose rows are all gone still fails', async () => {
    const rows = log(A, 12);
    const other = log(B, 3);
    const trusted = [
      { note: checkpointOf(rows, 12, signer).note, source: '/audit/a.checkpoint' },
      { note: checkpointOf(other, 3, signer).note, source: '/audit/b.checkpoint' },
    ];
    const out = sink();
    const store = arrayStore({ [A]: rows.slice(0, 9) });
    expect(await runVerify({ store, out, isTTY: false, verifiers, trusted })).toBe(1);
    const lines = out.text().split('\n');
    expect(lines[0]).toBe(
      `${A}  9 records  no signed checkpoint yet  FAILED at index 9: log_truncated: records 9…11 are missing: checkpoint /audit/a.checkpoint says the log has 12 records, the store holds 9`,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${B}  0 records  no signed checkpoint yet  FAILED at index 0: log_truncated: records 0…2 are missing`,
      ),
    );
  });

  it('an altered store checkpoint and one signed by an unknown key fail, naming the index', async () => {
    const rows = log(A, 12);
    const stranger = parseSignerKey(generateNoteKey('phi-audit.verify-test').signerKey);
    const good = checkpointOf(rows, 8, signer);
    const altered = { ...good, note: good.note.replace('\n8\n', '\n7\n'), size: 7 };
    const out = sink();
    expect(
      await runVerify({
        store: arrayStore({ [A]: rows }, undefined, { [A]: [altered] }),
        out,
        isTTY: false,
        verifiers,
      }),
    ).toBe(1);
    expect(out.text()).toContain(
      'FAILED at index 7: checkpoint_invalid: checkpoint in the store: its signature does not verify',
    );
    const out2 = sink();
    const unknown = checkpointOf(rows, 10, stranger);
    expect(
      await runVerify({
        store: arrayStore({ [A]: rows }, undefined, { [A]: [good, unknown] }),
        out: out2,
        isTTY: false,
        verifiers,
      }),
    ).toBe(1);
    expect(out2.text()).toContain('FAILED at index 10: checkpoint_unknown_key: ');
  });
});

describe('resolveTrustInputs', () => {
  const data = { kind: 'data', dir: '/d', file: '/d/ledger.sqlite', reason: '--data' } as const;
  const clickhouse = { kind: 'clickhouse', url: 'http://h:1', reason: '--clickhouse' } as const;
  const all = () => true;
  const none = () => false;

  it('--key wins; otherwise $PHI_AUDIT_VERIFIER_KEYS plus the data directory key when present', () => {
    expect(resolveTrustInputs({ key: ['k1'] }, data, { PHI_AUDIT_VERIFIER_KEYS: 'k2' }, all).keyEntries).toEqual([
      'k1',
    ]);
    const fromEnv = resolveTrustInputs({}, data, { PHI_AUDIT_VERIFIER_KEYS: ' k2 , ,k3' }, all);
    expect(fromEnv.keyEntries).toEqual(['k2', 'k3', join('/d', 'checkpoint-signing.key.pub')]);
    expect(fromEnv.notes.join('\n')).toMatch(/whoever can write the data directory can replace it/);
    expect(resolveTrustInputs({}, data, {}, none)).toEqual({
      keyEntries: [],
      trustedFiles: [],
      exportDir: undefined,
      notes: [],
    });
    expect(resolveTrustInputs({}, clickhouse, { PHI_AUDIT_VERIFIER_KEYS: 'k2' }, all).keyEntries).toEqual(['k2']);
  });

  it('export directory: --checkpoints, else <data>/checkpoints when present, else $CHECKPOINT_EXPORT_DIR for ClickHouse', () => {
    const env = { CHECKPOINT_EXPORT_DIR: '/x' };
    expect(resolveTrustInputs({ checkpoints: '/c' }, data, env, all).exportDir).toBe('/c');
    expect(resolveTrustInputs({}, data, env, all).exportDir).toBe(join('/d', 'checkpoints'));
    expect(resolveTrustInputs({}, data, env, none).exportDir).toBeUndefined();
    expect(resolveTrustInputs({}, clickhouse, env, none).exportDir).toBe('/x');
    expect(resolveTrustInputs({}, clickhouse, {}, none).exportDir).toBeUndefined();
  });
});

describe('runVerifyCommand with an embedded data directory that holds a signing key and exported checkpoints', () => {
  const run = async (options: Parameters<typeof runVerifyCommand>[0], env: NodeJS.ProcessEnv = {}) => {
    const out = sink();
    const err = sink();
    const code = await runVerifyCommand(options, { out, err, isTTY: false, env });
    return { code, out: out.text(), err: err.text() };
  };

  it('uses <data>/checkpoint-signing.key.pub and <data>/checkpoints by default; an explicit --key must match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phi-audit-verify-cp-'));
    try {
      const origin = embeddedOrigin('clinic-a');
      const keyFile = join(dir, 'checkpoint-signing.key');
      const { verifierKey } = createSigningKeyFile({ name: 'phi-audit.embedded-test', file: keyFile });
      const signer = parseSignerKey(readFileSync(keyFile, 'utf8'));
      const rows = log(origin, 20);
      const store = createSqliteLedgerStore({ file: ledgerFileIn(dir) });
      store.appendSync(rows, undefined, tilesOf(origin, rows));
      await store.putCheckpoint(checkpointOf(rows, 10, signer));
      await store.close();
      mkdirSync(join(dir, 'checkpoints'));
      writeFileSync(join(dir, 'checkpoints', exportFileName(origin)), checkpointOf(rows, 20, signer).note);

      const ok = await run({ data: dir });
      expect(ok.out).toBe(
        `${origin}  20 records  2 checkpoints (latest size 20)  OK\nverified 1 log, 20 records: all OK\n`,
      );
      expect(ok.code).toBe(0);
      expect(ok.err).toContain('trusting the verifier key in');
      expect((await run({ data: dir, key: [verifierKey] })).code).toBe(0);

      const stranger = generateNoteKey('phi-audit.embedded-test').verifierKey;
      const wrong = await run({ data: dir, key: [stranger] });
      expect(wrong.code).toBe(1);
      expect(wrong.out).toContain('FAILED at index 10: checkpoint_unknown_key');

      const badKey = await run({ data: dir, key: ['not-a-key'] });
      expect(badKey.code).toBe(2);
      const noDir = await run({ data: dir, checkpoints: join(dir, 'nope') });
      expect(noDir.code).toBe(2);
      const noFile = await run({ data: dir, trusted: [join(dir, 'nope.checkpoint')] });
      expect(noFile).toMatchObject({ code: 2, out: '' });
      expect(noFile.err).toContain('cannot read the trusted checkpoint');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
