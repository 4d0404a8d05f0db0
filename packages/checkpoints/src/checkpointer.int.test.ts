import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  createTileBuilder,
  generateNoteKey,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  type LedgerStore,
  type StoredCheckpoint,
} from '@phi-audit/ledger';
import { createSqliteLedgerStore, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportFileName } from './checkpoint-export.js';
import { createCheckpointer, type Checkpointer, type CheckpointerOptions } from './checkpointer.js';

const { signerKey, verifierKey } = generateNoteKey('checkpointer-test');
const signer = parseSignerKey(signerKey);
const verifier = parseVerifierKey(verifierKey);
const ORIGIN = 'phi-audit/test-topic/0';
const root = (n: number): Buffer => Buffer.alloc(32, n);

/** A logger that keeps what it was given, to check what the checkpointer says (and never says). */
function recordingLogger() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('checkpointer (real SQLite store, real export directory)', () => {
  let dir: string;
  let exportDir: string;
  let store: SqliteLedgerStore;
  let clock: number;
  const open: Checkpointer[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-audit-checkpointer-'));
    exportDir = join(dir, 'exported');
    store = createSqliteLedgerStore({ file: join(dir, 'ledger.sqlite') });
    clock = 1_800_000_000_000;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (overrides: Partial<CheckpointerOptions> = {}) => {
    const log = recordingLogger();
    const checkpointer = createCheckpointer({
      signer,
      store,
      logger: log.logger,
      policy: { everyRecords: 10, intervalMs: 10_000 },
      exportTo: { dir: exportDir },
      now: () => clock,
      ...overrides,
    });
    open.push(checkpointer);
    return { checkpointer, ...log };
  };

  /**
   * A log of synthetic leaves whose tiles are stored, so its roots are real and a new
   * checkpointer can check them against the stored checkpoint. `leaf(i)` picks leaf i.
   */
  const tiledLog = (leaf: (i: number) => Buffer = (i) => createHash('sha256').update(`leaf ${i}`).digest()) => {
    const builder = createTileBuilder({ size: 0, rightEdge: [] });
    return async (size: number): Promise<Buffer> => {
      const leaves: Buffer[] = [];
      for (let i = builder.size; i < size; i++) leaves.push(leaf(i));
      builder.append(leaves);
      await store.putTiles(builder.takeChanged().map((t) => ({ ...t, origin: ORIGIN })));
      return builder.root();
    };
  };

  const exported = (origin = ORIGIN): string | undefined => {
    const file = join(exportDir, exportFileName(origin));
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };

  it('signs once everyRecords records were added, stores it, and exports the same note', async () => {
    const { checkpointer, lines } = make();
    expect(await checkpointer.appended(ORIGIN, 4, root(4))).toBeUndefined();
    expect(await checkpointer.appended(ORIGIN, 9, root(9))).toBeUndefined();
    expect(await store.latestCheckpoint(ORIGIN)).toBeUndefined();
    const signed = await checkpointer.appended(ORIGIN, 10, root(10));
    expect(signed).toMatchObject({ origin: ORIGIN, size: 10, rootHex: root(10).toString('hex'), signedAt: clock });
    const opened = openCheckpoint(signed!.note, [verifier]);
    expect(opened.checkpoint).toEqual({ origin: ORIGIN, size: 10, root: root(10) });
    expect(await store.latestCheckpoint(ORIGIN)).toEqual(signed);
    // The next one is due 10 records after this one, not after the start.
    expect(await checkpointer.appended(ORIGIN, 19, root(19))).toBeUndefined();
    expect((await checkpointer.appended(ORIGIN, 20, root(20)))?.size).toBe(20);
    await checkpointer.close();
    expect(exported()).toBe((await store.latestCheckpoint(ORIGIN))?.note);
    expect((await store.checkpoints(ORIGIN)).map((c) => c.size)).toEqual([10, 20]);
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('calls beforeSign right before each signing (under the log lock); a rejection skips it and is retried', async () => {
    const calls: string[] = [];
    let refuse = true;
    const { checkpointer, lines } = make({
      beforeSign: async (origin, size) => {
        // What is stored when beforeSign runs: the checkpoint at `size` is not signed yet.
        const latest = await store.latestCheckpoint(origin);
        calls.push(`${origin}@${size} after ${latest?.size ?? 0}`);
        if (refuse) throw Object.assign(new Error('tiles not stored'), { code: 'STORE_FULL' });
      },
    });
    // Not due: no call.
    expect(await checkpointer.appended(ORIGIN, 4, root(4))).toBeUndefined();
    expect(calls).toEqual([]);
    // Due by count, but beforeSign refuses: nothing is signed, stored or exported.
    expect(await checkpointer.appended(ORIGIN, 10, root(10))).toBeUndefined();
    expect(calls).toEqual([`${ORIGIN}@10 after 0`]);
    expect(await store.latestCheckpoint(ORIGIN)).toBeUndefined();
    expect(exported()).toBeUndefined();
    const failure = lines.find((l) => l.msg.includes('could not prepare the log'));
    expect(failure).toMatchObject({ level: 'error', obj: { origin: ORIGIN, size: 10, code: 'STORE_FULL' } });
    // Retried by the next flush once beforeSign succeeds: called again, then signed at that size.
    refuse = false;
    expect((await checkpointer.flushAll()).map((c) => c.size)).toEqual([10]);
    expect(calls).toEqual([`${ORIGIN}@10 after 0`, `${ORIGIN}@10 after 0`]);
    // Each later signing is preceded by its own call, with the size it signs.
    expect((await checkpointer.appended(ORIGIN, 21, root(21)))?.size).toBe(21);
    expect(calls.at(-1)).toBe(`${ORIGIN}@21 after 10`);
    // Nothing to sign: no call.
    expect(await checkpointer.flushAll()).toEqual([]);
    expect(calls).toHaveLength(3);
    expect((await store.checkpoints(ORIGIN)).map((c) => c.size)).toEqual([10, 21]);
  });

  it('signs a grown log after intervalMs (a log never checkpointed at once), never an unchanged one', async () => {
    const { checkpointer } = make();
    await checkpointer.appended(ORIGIN, 3, root(3));
    // No checkpoint yet: records left unsigned by anyone are signed at the first tick.
    expect((await checkpointer.flushDue()).map((c) => c.size)).toEqual([3]);
    expect(await checkpointer.flushDue()).toEqual([]);
    await checkpointer.appended(ORIGIN, 5, root(5));
    clock += 9_999;
    expect(await checkpointer.flushDue()).toEqual([]);
    clock += 1;
    expect((await checkpointer.flushDue()).map((c) => c.size)).toEqual([5]);
    clock += 60_000;
    expect(await checkpointer.flushDue()).toEqual([]);
    expect(await checkpointer.flushAll()).toEqual([]);
    await checkpointer.appended(ORIGIN, 6, root(6));
    expect((await checkpointer.flushAll()).map((c) => c.size)).toEqual([6]);
  });

  it('continues from the stored latest checkpoint when it first sees a log (a new owner)', async () => {
    const growTo = tiledLog();
    const first = make().checkpointer;
    const signed = await first.appended(ORIGIN, 10, await growTo(10));
    await first.close();
    clock += 1_000;
    const { checkpointer, lines } = make();
    // Same head as the stored checkpoint: nothing to sign, now or at close.
    expect(await checkpointer.appended(ORIGIN, 10, await growTo(10))).toBeUndefined();
    expect(await checkpointer.flushAll()).toEqual([]);
    // Grown by less than everyRecords: due intervalMs after the stored checkpoint was signed.
    await checkpointer.appended(ORIGIN, 14, await growTo(14));
    expect(await checkpointer.flushDue()).toEqual([]);
    clock = signed!.signedAt + 10_000;
    expect((await checkpointer.flushDue()).map((c) => c.size)).toEqual([14]);
    // everyRecords counts from the stored checkpoint, not from what this instance saw first.
    expect((await checkpointer.appended(ORIGIN, 24, await growTo(24)))?.size).toBe(24);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('refuses to sign a log that was cut off and regrew past its checkpoint (a fork), and says so', async () => {
    const first = make().checkpointer;
    const signed = await first.appended(ORIGIN, 10, await tiledLog()(10));
    await first.close();
    // Records 6… replaced by others (tail cut off, new records appended): tiles rebuilt for the fork.
    const forked = tiledLog((i) =>
      createHash('sha256')
        .update(i < 6 ? `leaf ${i}` : `other ${i}`)
        .digest(),
    );
    const { checkpointer, lines } = make();
    expect(await checkpointer.appended(ORIGIN, 30, await forked(30))).toBeUndefined();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      expect.stringMatching(/does not extend its latest signed checkpoint/),
    ]);
    clock += 60_000;
    expect(await checkpointer.flushAll()).toEqual([]);
    expect(await store.latestCheckpoint(ORIGIN)).toEqual(signed);
    expect(exported()).toBe(signed!.note);
  });

  it('refuses to sign a log shorter than its stored checkpoint (truncation) and says so', async () => {
    const first = make().checkpointer;
    const signed = await first.appended(ORIGIN, 20, root(20));
    await first.close();
    const { checkpointer, lines } = make();
    expect(await checkpointer.appended(ORIGIN, 12, root(12))).toBeUndefined();
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.obj).toEqual({ origin: ORIGIN, size: 12, checkpointSize: 20 });
    expect(errors[0]?.msg).toMatch(/shorter than its latest signed checkpoint/);
    // Even when it grows past the checkpoint again: the evidence is never replaced.
    expect(await checkpointer.appended(ORIGIN, 40, root(40))).toBeUndefined();
    clock += 60_000;
    expect(await checkpointer.flushDue()).toEqual([]);
    expect(await checkpointer.flushAll()).toEqual([]);
    expect(await store.latestCheckpoint(ORIGIN)).toEqual(signed);
    expect(exported()).toBe(signed!.note);
  });

  it('refuses to sign a log whose root differs from its checkpoint of the same size (rewritten)', async () => {
    const first = make().checkpointer;
    await first.appended(ORIGIN, 10, root(10));
    await first.close();
    const { checkpointer, lines } = make();
    await checkpointer.appended(ORIGIN, 10, root(99));
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([expect.stringMatching(/root differs/)]);
    expect(await checkpointer.appended(ORIGIN, 30, root(30))).toBeUndefined();
    expect((await store.latestCheckpoint(ORIGIN))?.size).toBe(10);
  });

  it('keeps logs apart and forgets a log it no longer writes', async () => {
    const { checkpointer } = make();
    const other = 'phi-audit/test-topic/1';
    await checkpointer.appended(ORIGIN, 3, root(3));
    await checkpointer.appended(other, 4, root(4));
    checkpointer.forget(other);
    expect((await checkpointer.flushAll()).map((c) => [c.origin, c.size])).toEqual([[ORIGIN, 3]]);
    expect(await store.latestCheckpoint(other)).toBeUndefined();
  });

  it('a store failure is logged, never thrown, and retried with the next call', async () => {
    let failing = true;
    // The real store behind a switch: the failure is injected, the storage is not mocked.
    const flaky: Pick<LedgerStore, 'putCheckpoint' | 'latestCheckpoint'> = {
      latestCheckpoint: (origin) => store.latestCheckpoint(origin),
      putCheckpoint: (c) => (failing ? Promise.reject(new Error('disk on fire')) : store.putCheckpoint(c)),
    };
    const { checkpointer, lines } = make({ store: flaky });
    expect(await checkpointer.appended(ORIGIN, 10, root(10))).toBeUndefined();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.obj)).toEqual([{ origin: ORIGIN, size: 10 }]);
    failing = false;
    expect((await checkpointer.appended(ORIGIN, 11, root(11)))?.size).toBe(11);
    expect((await store.latestCheckpoint(ORIGIN))?.size).toBe(11);
  });

  it('an export failure is logged without the note, counted, and retried (next checkpoint and after intervalMs)', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(exportDir, 'not a directory');
    const failures: string[] = [];
    const { checkpointer, lines } = make({
      hooks: { exportFailed: (origin, target) => failures.push(`${origin} ${target}`) },
    });
    const first = await checkpointer.appended(ORIGIN, 10, root(10));
    expect(first?.size).toBe(10);
    await waitUntil(() => failures.length === 1);
    expect(failures).toEqual([`${ORIGIN} dir`]);
    const warned = lines.filter((l) => l.level === 'warn');
    expect(warned.map((l) => l.obj)).toEqual([expect.objectContaining({ origin: ORIGIN, size: 10, target: 'dir' })]);
    expect(JSON.stringify(lines)).not.toContain(first!.note.split('\n').at(-2)!);
    // The checkpoint itself is stored regardless.
    expect((await store.latestCheckpoint(ORIGIN))?.size).toBe(10);

    rmSync(exportDir);
    // The log stays idle: the failed export is retried by the timer's flushDue after intervalMs.
    await checkpointer.flushDue();
    expect(exported()).toBeUndefined();
    clock += 10_000;
    await checkpointer.flushDue();
    await waitUntil(() => exported() !== undefined);
    expect(exported()).toBe(first!.note);
    // And with the next checkpoint.
    const next = await checkpointer.appended(ORIGIN, 20, root(20));
    await checkpointer.close();
    expect(exported()).toBe(next!.note);
  });

  it('exports coalesce: one in flight per log, the latest wins, and a stalled endpoint never delays appended()', async () => {
    const received: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push(body);
        // The first POST stalls until the test releases it.
        void (received.length === 1 ? released : Promise.resolve()).then(() => res.writeHead(204).end());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      const { checkpointer } = make({ exportTo: { url: `http://127.0.0.1:${address.port}/checkpoints` } });
      const signed: StoredCheckpoint[] = [];
      for (const size of [10, 20, 30, 40]) {
        const started = Date.now();
        const c = await checkpointer.appended(ORIGIN, size, root(size));
        expect(Date.now() - started).toBeLessThan(1_000);
        signed.push(c!);
      }
      await waitUntil(() => received.length === 1);
      expect(received).toEqual([signed[0]!.note]);
      release();
      await checkpointer.close();
      // 20 and 30 were replaced by 40 while the first export was in flight.
      expect(received).toEqual([signed[0]!.note, signed[3]!.note]);
    } finally {
      release();
      server.close();
    }
  });

  it('close() signs every log that grew and waits for the exports', async () => {
    const { checkpointer } = make();
    const origins = ['phi-audit/t/0', 'phi-audit/t/1', 'phi-audit/t/2'];
    for (const [i, origin] of origins.entries()) await checkpointer.appended(origin, i + 1, root(i + 1));
    await checkpointer.close();
    for (const [i, origin] of origins.entries()) {
      const latest = await store.latestCheckpoint(origin);
      expect(latest?.size).toBe(i + 1);
      expect(exported(origin)).toBe(latest?.note);
    }
  });

  it('the timer flushes due logs by itself', async () => {
    const { checkpointer } = make({ now: Date.now, policy: { everyRecords: 1_000, intervalMs: 50 } });
    checkpointer.start();
    await checkpointer.appended(ORIGIN, 7, root(7));
    await waitUntil(async () => (await store.latestCheckpoint(ORIGIN))?.size === 7);
  });

  it('logs name the origin and sizes only: never the key or a note', async () => {
    const first = make().checkpointer;
    const signed = await first.appended(ORIGIN, 30, root(30));
    const { checkpointer, lines } = make();
    await checkpointer.appended(ORIGIN, 5, root(5));
    expect(lines.length).toBeGreaterThan(0);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(signerKey.split('+').slice(4).join('+'));
    expect(text).not.toContain(signed!.note.split('\n').at(-2)!);
  });
});

async function waitUntil(probe: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
