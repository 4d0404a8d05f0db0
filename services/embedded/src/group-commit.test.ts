import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadLogTiles } from '@phi-audit/checkpoints';
import { createTileBuilder, type LogTile } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { createGroupCommitter, type GroupCommitStore } from './group-commit.js';
import { prepareEvents, type PreparedEvent } from './prepared-event.js';

let dir: string;
let store: SqliteLedgerStore;
let other: SqliteLedgerStore | undefined;
let seq = 0;

function events(tenant: string, count = 1): PreparedEvent[] {
  const list: AccessEvent[] = [];
  for (let i = 0; i < count; i++) {
    seq += 1;
    list.push({
      eventId: `evt-${seq}`,
      tenant,
      occurredAt: Date.now() - 60_000,
      receivedAt: Date.now(),
      source: { system: 'ehr' },
      actor: { userId: `u${seq % 5}` },
      patient: { id: `MRN${seq}` },
      action: 'view',
      resource: { type: 'Patient' },
      outcome: 'success',
    });
  }
  return prepareEvents(list);
}

/** Tile writes as the real store received them: per call, `origin level/index:width`. */
interface Observed {
  appended: string[][];
  put: string[][];
}
const describeTiles = (tiles: readonly LogTile[]): string[] =>
  tiles.map((t) => `${t.origin} ${t.level}/${t.index}:${t.hashes.length / 32}`).sort();

/** The real store, observed: every call goes through unchanged; the tiles written are noted. */
function observed(real: SqliteLedgerStore): { store: GroupCommitStore; seen: Observed } {
  const seen: Observed = { appended: [], put: [] };
  const store: GroupCommitStore = {
    head: (origin) => real.head(origin),
    heads: () => real.heads(),
    existingKeys: (keys) => real.existingKeys(keys),
    lastSourceOffset: () => real.lastSourceOffset(),
    readTiles: (origin, ids) => real.readTiles(origin, ids),
    appendSync: (records, derived, tiles = []) => {
      real.appendSync(records, derived, tiles);
      seen.appended.push(describeTiles(tiles));
    },
    putTiles: async (tiles) => {
      await real.putTiles(tiles);
      seen.put.push(describeTiles(tiles));
    },
  };
  return { store, seen };
}

/** Problems of the stored tiles against the stored leaves: none when they are exactly a fresh builder's. */
async function tileProblems(origin: string): Promise<string[]> {
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  for await (const r of store.scan(origin)) builder.append([Buffer.from(r.leafHash, 'hex')]);
  const expected = builder.takeChanged();
  const stored = new Map(
    (await store.readTiles(origin, expected)).map((t) => [`${t.level}/${t.index}`, t.hashes.toString('hex')]),
  );
  const problems = expected
    .filter((t) => stored.get(`${t.level}/${t.index}`) !== t.hashes.toString('hex'))
    .map((t) => `tile ${t.level}/${t.index}`);
  const coverage = await store.tileCoverage(origin);
  if (coverage !== builder.size) problems.push(`coverage ${coverage} ≠ size ${builder.size}`);
  return problems;
}

const A = embeddedOrigin('clinic-a');
const B = embeddedOrigin('clinic-b');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phi-group-commit-'));
  store = createSqliteLedgerStore({ file: join(dir, 'ledger.sqlite') });
});
afterEach(async () => {
  await other?.close();
  other = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group committer: Merkle tiles', () => {
  it('small commits hold tiles back; the group completing a 256-leaf tile writes the log’s tiles; flushTiles stores the rest', async () => {
    const { store: watched, seen } = observed(store);
    const committer = createGroupCommitter({ store: watched, loadTiles: (o, s) => loadLogTiles(store, o, s) });
    for (let i = 1; i <= 300; i++) {
      const requests = [events('clinic-a')];
      if (i % 10 === 0) requests.push(events('clinic-b'));
      const { grown } = await committer.commit(requests);
      expect(grown.find((g) => g.origin === A)?.size).toBe(i);
    }
    // 300 transactions; only the one taking clinic-a from 255 to 256 leaves carried tiles: the
    // full level-0 tile and the level-1 tile it starts. clinic-b (30 leaves) carried none.
    expect(seen.appended).toHaveLength(300);
    expect(seen.appended.filter((tiles) => tiles.length > 0)).toEqual([[`${A} 0/0:256`, `${A} 1/0:1`]]);
    expect(seen.appended[255]).toEqual([`${A} 0/0:256`, `${A} 1/0:1`]);
    expect(seen.put).toEqual([]);
    expect(await store.tileCoverage(A)).toBe(256);
    expect(await store.tileCoverage(B)).toBe(0);

    // A checkpoint at 300 needs the tiles: flushed in one small write, wider sizes refused.
    await expect(committer.flushTiles(A, 301)).rejects.toThrow(/fewer than 301/);
    await committer.flushTiles(A, 300);
    expect(seen.put).toEqual([[`${A} 0/1:44`]]);
    expect(await tileProblems(A)).toEqual([]);
    // Nothing held back any more: a second flush writes nothing.
    await committer.flushTiles(A, 300);
    expect(seen.put).toHaveLength(1);
    // Without an origin (close): every log.
    await committer.flushTiles();
    expect(seen.put).toEqual([[`${A} 0/1:44`], [`${B} 0/0:30`]]);
    expect(await tileProblems(B)).toEqual([]);

    // A 500-event group (more than a tile) writes its tiles with its records, as before.
    await committer.commit([events('clinic-b', 500)]);
    expect(seen.appended.at(-1)).toEqual([`${B} 0/0:256`, `${B} 0/1:256`, `${B} 0/2:18`, `${B} 1/0:2`]);
    expect(await tileProblems(B)).toEqual([]);
  });

  it('a failed transaction drops the held-back tiles; the reload repairs them from the stored coverage', async () => {
    const committer = createGroupCommitter({ store, loadTiles: (o, s) => loadLogTiles(store, o, s) });
    await committer.commit([events('clinic-a', 250)]);
    for (let i = 0; i < 10; i++) await committer.commit([events('clinic-a')]);
    expect(await store.tileCoverage(A)).toBe(256);
    // Another connection appends to the log behind the committer's back (no tiles): the
    // committer's next transaction collides with it and rolls back.
    other = createSqliteLedgerStore({ file: join(dir, 'ledger.sqlite') });
    await createGroupCommitter({ store: other }).commit([events('clinic-a', 3)]);
    const refused = events('clinic-a', 2);
    await expect(committer.commit([refused])).rejects.toThrow();
    expect((await store.head(A)).size).toBe(263);
    // The next group reloads the log: its tiles are repaired up to the head, then it continues.
    const { grown } = await committer.commit([refused]);
    expect(grown).toEqual([expect.objectContaining({ origin: A, size: 265 })]);
    expect(await store.tileCoverage(A)).toBe(263);
    await committer.flushTiles(A, 265);
    expect(await tileProblems(A)).toEqual([]);
    const leaves: Buffer[] = [];
    for await (const r of store.scan(A)) leaves.push(Buffer.from(r.leafHash, 'hex'));
    const fresh = createTileBuilder({ size: 0, rightEdge: [] });
    fresh.append(leaves);
    expect(grown[0]?.root.equals(fresh.root())).toBe(true);
  });

  it('without loadTiles writes no tiles at all, and flushTiles does nothing', async () => {
    const { store: watched, seen } = observed(store);
    const committer = createGroupCommitter({ store: watched });
    await committer.commit([events('clinic-a', 300)]);
    await committer.flushTiles();
    await committer.flushTiles(A, 300);
    expect(seen.appended).toEqual([[]]);
    expect(seen.put).toEqual([]);
    expect(await store.tileCoverage(A)).toBe(0);
  });
});
