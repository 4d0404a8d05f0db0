import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportFileName } from '@phi-audit/checkpoints';
import {
  createTileNodeReader,
  generateNoteKey,
  hashRanges,
  openCheckpoint,
  parseVerifierKey,
  rootOfLeafHashes,
  verifyLog,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { createEmbeddedLedger, type EmbeddedLedger } from './embedded-ledger.js';
import { isEmbeddedError } from './errors.js';

const logger = pino({ level: 'silent' });
let dir: string;
let file: string;
let store: SqliteLedgerStore;
let ledger: EmbeddedLedger | undefined;
let seq = 0;

function event(overrides: Partial<AccessEvent> = {}): AccessEvent {
  seq += 1;
  return {
    eventId: `evt-${seq}`,
    tenant: 'clinic-a',
    occurredAt: Date.now() - 60_000,
    receivedAt: Date.now(),
    source: { system: 'ehr' },
    actor: { userId: `u${seq % 5}` },
    patient: { id: `MRN${seq}` },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
    ...overrides,
  };
}

/**
 * A writer thread script whose first instance dies on its first message (as a crash mid-commit
 * would) and whose later instances are the real writer.
 */
function crashOnceWorker(): URL {
  const marker = join(dir, 'crashed-once');
  const real = new URL('../dist/ledger-worker.js', import.meta.url).href;
  const script = join(dir, 'crash-once-worker.mjs');
  writeFileSync(
    script,
    `import { existsSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
const marker = ${JSON.stringify(marker)};
if (existsSync(marker)) await import(${JSON.stringify(real)});
else parentPort.once('message', () => { writeFileSync(marker, ''); process.exit(3); });
`,
  );
  return pathToFileURL(script);
}

const noteKey = generateNoteKey('test/phi-audit');

function checkpointSettings(everyRecords: number) {
  return { signerKey: noteKey.signerKey, everyRecords, intervalMs: 3_600_000, exportDir: join(dir, 'exported') };
}

/** The stored leaf hashes of a log, as Buffers. */
async function leavesOf(origin: string): Promise<Buffer[]> {
  const leaves: Buffer[] = [];
  for await (const r of store.scan(origin)) leaves.push(Buffer.from(r.leafHash, 'hex'));
  return leaves;
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phi-embedded-ledger-'));
  file = join(dir, 'ledger.sqlite');
  store = createSqliteLedgerStore({ file });
});
afterEach(async () => {
  await ledger?.close();
  ledger = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded ledger writer thread', () => {
  it('a writer that dies fails its group (nothing acknowledged); the next writer continues the chain', async () => {
    ledger = createEmbeddedLedger({ file, logger, workerUrl: crashOnceWorker() });
    const lost = [event(), event()];
    const error = await ledger.publish(lost).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEmbeddedError(error, 'EMBEDDED_STORE_FAILED')).toBe(true);
    expect(await ledger.isReady()).toBe(false);

    const kept = [event(), event(), event()];
    await ledger.publish(kept);
    // A retry of the failed request after the restart is stored once.
    await ledger.publish(lost);
    await ledger.publish(lost);
    expect(await ledger.isReady()).toBe(true);
    expect(ledger.stats()).toMatchObject({ failedSends: 1, events: 5, duplicates: 2 });

    const origin = embeddedOrigin('clinic-a');
    const ids: string[] = [];
    for await (const r of store.scan(origin)) ids.push(r.eventId);
    expect(ids).toEqual([...kept, ...lost].map((e) => e.eventId));
    const v = await verifyLog({ origin, records: store.scan(origin) });
    expect(v.failure).toBeUndefined();
    expect(v.records).toBe(5);
  });

  it('refuses a request holding an event that is not a valid AccessEvent, alone and without storing any of it', async () => {
    ledger = createEmbeddedLedger({ file, logger });
    const bad = [event(), { ...event(), action: 'peek' } as unknown as AccessEvent];
    const good = [event()];
    const [refused, accepted] = await Promise.allSettled([ledger.publish(bad), ledger.publish(good)]);
    expect(refused.status).toBe('rejected');
    expect(accepted.status).toBe('fulfilled');
    expect((await store.heads()).map((h) => h.size)).toEqual([1]);
  });

  it('after a writer dies, the next one reloads the tiles; checkpoints are signed only over committed records', async () => {
    ledger = createEmbeddedLedger({ file, logger, workerUrl: crashOnceWorker(), checkpoints: checkpointSettings(2) });
    await ledger.publish([event(), event()]).catch(() => undefined);
    for (let i = 0; i < 5; i++) await ledger.publish([event(), event(), event()]);
    await ledger.close();
    ledger = undefined;

    const origin = embeddedOrigin('clinic-a');
    const leaves = await leavesOf(origin);
    expect(leaves).toHaveLength(15);
    expect(await store.tileCoverage(origin)).toBe(15);
    const verifier = parseVerifierKey(noteKey.verifierKey);
    const checkpoints = await store.checkpoints(origin);
    expect(checkpoints.map((c) => c.size)).toEqual([3, 6, 9, 12, 15]);
    for (const c of checkpoints) {
      const { checkpoint } = openCheckpoint(c.note, [verifier]);
      expect(checkpoint.root.equals(rootOfLeafHashes(leaves.slice(0, c.size)))).toBe(true);
    }
    expect(readFileSync(join(dir, 'exported', exportFileName(origin)), 'utf8')).toBe(checkpoints.at(-1)?.note);
  });

  it('holds the partial tile back between small commits; stores it before each checkpoint and on close', async () => {
    ledger = createEmbeddedLedger({ file, logger, checkpoints: checkpointSettings(4) });
    const origin = embeddedOrigin('clinic-a');
    for (let i = 0; i < 10; i++) await ledger.publish([event()]);
    // Signed at 4 and 8 (after the acknowledgements): the tiles were stored first.
    await waitUntil(async () => (await store.latestCheckpoint(origin))?.size === 8);
    expect(await store.tileCoverage(origin)).toBeGreaterThanOrEqual(8);
    const leaves = await leavesOf(origin);
    for (const c of await store.checkpoints(origin)) {
      const [root] = await hashRanges(
        [[0, c.size]],
        createTileNodeReader((ids) => store.readTiles(origin, ids), c.size),
      );
      expect(root?.toString('hex')).toBe(c.rootHex);
      expect(c.rootHex).toBe(rootOfLeafHashes(leaves.slice(0, c.size)).toString('hex'));
    }
    // One more small commit, no checkpoint due: its tile is held back…
    const before = await store.tileCoverage(origin);
    await ledger.publish([event()]);
    expect(await store.tileCoverage(origin)).toBe(before);
    expect(before).toBeLessThan(11);
    // … until the close stores it (and signs the head).
    await ledger.close();
    ledger = undefined;
    expect(await store.tileCoverage(origin)).toBe(11);
    expect((await store.latestCheckpoint(origin))?.size).toBe(11);
  });

  it('a log that grew past its last checkpoint (here: written without tiles) is tiled and signed at the next start, with no new event', async () => {
    ledger = createEmbeddedLedger({ file, logger });
    await ledger.publish([event(), event(), event(), event(), event()]);
    await ledger.close();
    const origin = embeddedOrigin('clinic-a');
    expect(await store.tileCoverage(origin)).toBe(0);
    expect(await store.latestCheckpoint(origin)).toBeUndefined();

    ledger = createEmbeddedLedger({ file, logger, checkpoints: checkpointSettings(10_000) });
    await ledger.close();
    ledger = undefined;
    expect(await store.tileCoverage(origin)).toBe(5);
    const latest = await store.latestCheckpoint(origin);
    expect(latest?.size).toBe(5);
    expect(latest?.rootHex).toBe(rootOfLeafHashes(await leavesOf(origin)).toString('hex'));
  });
});
