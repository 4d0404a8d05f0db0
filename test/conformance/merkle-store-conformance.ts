import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTileBuilder,
  generateNoteKey,
  parseSignerKey,
  rightEdgeTiles,
  signNote,
  type LedgerRecord,
  type LogTile,
  type StoredCheckpoint,
  type TileId,
} from '@phi-audit/ledger';
import type { ConformanceHarness, OpenedStore } from './conformance-harness.js';
import { buildRecords, collect, conformanceEvent, TRICKY, uniqueName } from './conformance-records.js';

/** The most keys one lookup (readTiles, recordsAt, recordsByEventId) may ask for: one more is STORE_INVALID_VALUE. */
export const MAX_LOOKUP_KEYS = 10_000;

/** A tile of `width` random hashes: the store keeps hashes, it never interprets them. */
function randomTile(origin: string, level: number, index: number, width: number): LogTile {
  return { origin, level, index, hashes: randomBytes(width * 32) };
}

const byId = (a: TileId, b: TileId) => a.level - b.level || a.index - b.index;

/** The tiles a writer stores with `records` (a log's first batch): the real tile builder's output. */
function tilesOf(records: readonly LedgerRecord[], origin: string): LogTile[] {
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  builder.append(records.map((r) => Buffer.from(r.leafHash, 'hex')));
  return builder.takeChanged().map((t) => ({ ...t, origin }));
}

/** Distinct checkpoints in first-seen order: a store may keep an identical duplicate or skip it. */
function distinct(checkpoints: readonly StoredCheckpoint[]): StoredCheckpoint[] {
  return [...new Map(checkpoints.map((c) => [JSON.stringify(c), c])).values()];
}

const signer = parseSignerKey(generateNoteKey('conformance.example/ckpt').signerKey);

/** A genuinely signed checkpoint of `origin` at `size` (root: any 32 bytes; the store does not check it). */
function signedCheckpoint(origin: string, size: number, signedAt: number, seed = ''): StoredCheckpoint {
  const root = createHash('sha256').update(`${origin}/${size}/${seed}`).digest();
  const note = signNote(`${origin}\n${size}\n${root.toString('base64')}\n`, [signer]);
  return { origin, size, rootHex: root.toString('hex'), note, signedAt };
}

/**
 * The proof storage every LedgerStore adapter must share: Merkle tiles (widest version wins),
 * tile coverage, tiles written with their records, signed checkpoints, and the record lookups
 * proofs and evidence bundles use. Written against the LedgerStore interface only; every test
 * uses its own logs and tenants, so a harness may share one database.
 */
export function describeMerkleStoreConformance(name: string, harness: ConformanceHarness): void {
  describe(`Merkle/checkpoint store conformance: ${name}`, () => {
    let h: OpenedStore;
    beforeEach(async () => {
      h = await harness.open();
    });
    afterEach(async () => {
      await h?.close();
    });

    it('putTiles keeps the widest version of each tile: wider replaces, equal and narrower are ignored', async () => {
      const origin = uniqueName('phi-audit/conf-tiles');
      const other = uniqueName('phi-audit/conf-tiles-other');
      const first = randomTile(origin, 0, 0, 10);
      await h.store.putTiles([first, randomTile(other, 0, 0, 200)]);
      expect(await h.store.readTiles(origin, [{ level: 0, index: 0 }])).toEqual([first]);

      const equal = randomTile(origin, 0, 0, 10);
      const narrower = randomTile(origin, 0, 0, 3);
      await h.store.putTiles([equal]);
      await h.store.putTiles([narrower]);
      expect(await h.store.readTiles(origin, [{ level: 0, index: 0 }])).toEqual([first]);

      const wider = randomTile(origin, 0, 0, 256);
      await h.store.putTiles([wider]);
      await h.store.putTiles([randomTile(origin, 0, 0, 255)]);
      const [stored] = await h.store.readTiles(origin, [{ level: 0, index: 0 }]);
      expect(stored).toEqual(wider);
      expect(Buffer.isBuffer(stored!.hashes)).toBe(true);
      // Several versions in one call: the widest still wins, whatever the order.
      const t1 = [5, 40, 17].map((w) => randomTile(origin, 1, 0, w));
      await h.store.putTiles(t1);
      expect(await h.store.readTiles(origin, [{ level: 1, index: 0 }])).toEqual([t1[1]]);
      // Another log's tile with the same id is untouched.
      expect((await h.store.readTiles(other, [{ level: 0, index: 0 }]))[0]!.hashes).toHaveLength(200 * 32);
      await h.store.putTiles([]);
    });

    it('readTiles returns the stored subset of the requested tiles, each once, and nothing for absent ones', async () => {
      const origin = uniqueName(`phi-audit/conf-read-tiles/${TRICKY}`);
      const tiles = [randomTile(origin, 0, 0, 256), randomTile(origin, 0, 1, 256), randomTile(origin, 0, 2, 7)];
      tiles.push(randomTile(origin, 1, 0, 2), randomTile(origin, 2, 5, 1));
      await h.store.putTiles(tiles);
      const all = await h.store.readTiles(origin, tiles);
      expect(all.sort(byId)).toEqual(tiles);
      const some = await h.store.readTiles(origin, [
        { level: 0, index: 2 },
        { level: 0, index: 3 },
        { level: 1, index: 0 },
        { level: 0, index: 2 },
        { level: 7, index: 0 },
      ]);
      expect(some.sort(byId)).toEqual([tiles[2], tiles[3]]);
      expect(await h.store.readTiles(origin, [{ level: 3, index: 0 }])).toEqual([]);
      expect(await h.store.readTiles(origin, [])).toEqual([]);
      expect(await h.store.readTiles(uniqueName('phi-audit/conf-read-tiles/none'), [{ level: 0, index: 0 }])).toEqual(
        [],
      );
    });

    it('tileCoverage is max(index·256 + width) over level-0 tiles of the log, 0 when none', async () => {
      const origin = uniqueName('phi-audit/conf-coverage');
      expect(await h.store.tileCoverage(origin)).toBe(0);
      await h.store.putTiles([randomTile(origin, 1, 3, 256), randomTile(uniqueName('x'), 0, 9, 9)]);
      expect(await h.store.tileCoverage(origin)).toBe(0);
      await h.store.putTiles([randomTile(origin, 0, 0, 256), randomTile(origin, 0, 1, 12)]);
      expect(await h.store.tileCoverage(origin)).toBe(268);
      // Coverage follows the widest version, and the furthest tile even when one below is missing.
      await h.store.putTiles([randomTile(origin, 0, 1, 100)]);
      expect(await h.store.tileCoverage(origin)).toBe(356);
      await h.store.putTiles([randomTile(origin, 0, 4, 1)]);
      expect(await h.store.tileCoverage(origin)).toBe(1025);
    });

    it('append stores the tile builder’s tiles with the records; a builder resumes from the stored right edge', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-append-tiles');
      const records = buildRecords(origin, 600, (i) => conformanceEvent(i, tenant));
      const tiles = tilesOf(records, origin);
      expect(tiles.map((t) => [t.level, t.index, t.hashes.length / 32])).toEqual([
        [0, 0, 256],
        [0, 1, 256],
        [0, 2, 88],
        [1, 0, 2],
      ]);
      await h.store.append(records, tiles);
      expect(await collect(h.store.scan(origin))).toEqual(records);
      expect(await h.store.tileCoverage(origin)).toBe(600);
      const stored = await h.store.readTiles(origin, tiles);
      expect(stored.sort(byId)).toEqual(tiles);
      // Level 0 holds exactly the leaf hashes, in index order.
      const level0 = stored.filter((t) => t.level === 0).map((t) => t.hashes);
      expect(Buffer.concat(level0).toString('hex')).toBe(records.map((r) => r.leafHash).join(''));

      // Restart: continue from the right edge the store hands back; same root as one builder over all leaves.
      const more = buildRecords(origin, 100, (i) => conformanceEvent(i, tenant), await h.store.head(origin));
      const resumed = createTileBuilder({ size: 600, rightEdge: await h.store.readTiles(origin, rightEdgeTiles(600)) });
      resumed.append(more.map((r) => Buffer.from(r.leafHash, 'hex')));
      await h.store.append(
        more,
        resumed.takeChanged().map((t) => ({ ...t, origin })),
      );
      const whole = createTileBuilder({ size: 0, rightEdge: [] });
      whole.append([...records, ...more].map((r) => Buffer.from(r.leafHash, 'hex')));
      expect(resumed.root()).toEqual(whole.root());
      expect(await h.store.tileCoverage(origin)).toBe(700);
      const edge = await h.store.readTiles(origin, rightEdgeTiles(700));
      const isEdge = (t: TileId) => rightEdgeTiles(700).some((e) => e.level === t.level && e.index === t.index);
      const expectedEdge = whole
        .takeChanged()
        .filter(isEdge)
        .map((t) => ({ ...t, origin }));
      expect(expectedEdge.map((t) => t.hashes.length / 32)).toEqual([188, 2]);
      expect(edge.sort(byId)).toEqual(expectedEdge);

      // Tiles without records (a rebuild) are stored too.
      const rebuilt = uniqueName('phi-audit/conf-append-tiles-only');
      await h.store.append([], [randomTile(rebuilt, 0, 0, 3)]);
      expect(await h.store.tileCoverage(rebuilt)).toBe(3);
      expect((await h.store.head(rebuilt)).size).toBe(0);
    });

    it('an append whose tiles are invalid stores neither records nor tiles', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-append-bad-tile');
      const records = buildRecords(origin, 20, (i) => conformanceEvent(i, tenant));
      const tiles = tilesOf(records, origin);
      const bad = { ...randomTile(origin, 1, 0, 1), hashes: randomBytes(33) };
      await expect(h.store.append(records, [...tiles, bad])).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      await expect(h.store.putTiles([...tiles, bad])).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      expect((await h.store.head(origin)).size).toBe(0);
      expect(await h.store.tileCoverage(origin)).toBe(0);
      expect(await h.store.readTiles(origin, tiles)).toEqual([]);
      await h.store.append(records, tiles);
      expect((await h.store.head(origin)).size).toBe(20);
      expect(await h.store.tileCoverage(origin)).toBe(20);
    });

    it('checkpoints come back ascending by size then signing time; latest is the largest; duplicates are harmless', async () => {
      const origin = uniqueName('phi-audit/conf-ckpt');
      const other = uniqueName('phi-audit/conf-ckpt');
      expect(await h.store.checkpoints(origin)).toEqual([]);
      expect(await h.store.latestCheckpoint(origin)).toBeUndefined();
      const t = 1_714_573_800_000;
      const c10 = signedCheckpoint(origin, 10, t + 1);
      const c0 = signedCheckpoint(origin, 0, t);
      const c50 = signedCheckpoint(origin, 50, t + 3);
      const c10later = signedCheckpoint(origin, 10, t + 2);
      for (const c of [c50, c10later, c0, c10, signedCheckpoint(other, 99, t)]) await h.store.putCheckpoint(c);
      expect(await h.store.checkpoints(origin)).toEqual([c0, c10, c10later, c50]);
      expect(await h.store.latestCheckpoint(origin)).toEqual(c50);

      // A retried put of an identical checkpoint changes nothing a reader relies on.
      await h.store.putCheckpoint({ ...c50 });
      const after = await h.store.checkpoints(origin);
      expect(distinct(after)).toEqual([c0, c10, c10later, c50]);
      expect(after.map((c) => c.size)).toEqual([...after.map((c) => c.size)].sort((a, b) => a - b));
      expect(await h.store.latestCheckpoint(origin)).toEqual(c50);

      // A forged checkpoint of the same size is stored beside the genuine one, never instead of it.
      const forged = signedCheckpoint(origin, 50, t + 4, 'forged');
      await h.store.putCheckpoint(forged);
      expect(distinct(await h.store.checkpoints(origin)).filter((c) => c.size === 50)).toEqual([c50, forged]);
      expect(await h.store.latestCheckpoint(origin)).toEqual(forged);
      expect(await h.store.checkpoints(other)).toEqual([signedCheckpoint(other, 99, t)]);
    });

    it('checkpointedLogs lists exactly the logs with a checkpoint, sorted', async () => {
      const prefix = uniqueName('phi-audit/conf-ckpt-logs');
      const [a, b, c] = [`${prefix}/a`, `${prefix}/b`, `${prefix}/c`];
      const tenant = uniqueName('t');
      await h.store.append(buildRecords(b, 3, (i) => conformanceEvent(i, tenant)));
      for (const origin of [c, a, c]) await h.store.putCheckpoint(signedCheckpoint(origin, 1, 1));
      const logs = await h.store.checkpointedLogs();
      expect(logs.filter((l) => l.startsWith(prefix))).toEqual([a, c]);
      expect(logs).toEqual([...logs].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      expect(new Set(logs).size).toBe(logs.length);
    });

    it('recordsAt returns the rows at the asked indexes ascending, duplicates included, missing ones omitted', async () => {
      const tenant = uniqueName('t');
      const origin = uniqueName(`phi-audit/conf-records-at/${TRICKY}`);
      const records = buildRecords(origin, 30, (i) => conformanceEvent(i, tenant, { eventId: `e-${i}-${TRICKY}` }));
      await h.store.append(records);
      await h.store.append(
        buildRecords(uniqueName('phi-audit/conf-records-at'), 30, (i) => conformanceEvent(i, tenant)),
      );
      expect(await h.store.recordsAt(origin, [29, 0, 7, 7, 30, 1_000, Number.MAX_SAFE_INTEGER])).toEqual([
        records[0],
        records[7],
        records[29],
      ]);
      expect(await h.store.recordsAt(origin, [])).toEqual([]);
      expect(await h.store.recordsAt(uniqueName('phi-audit/none'), [0])).toEqual([]);

      await h.tamper.duplicateRecord(origin, 5);
      await h.tamper.updateColumn(origin, 9, 'user_id', 'someone-else');
      const rows = await h.store.recordsAt(origin, [9, 5, 4]);
      expect(rows.map((r) => r.index)).toEqual([4, 5, 5, 9]);
      expect(rows.slice(0, 3)).toEqual([records[4], records[5], records[5]]);
      // The same consistency finding scan reports.
      const scanned = (await collect(h.store.scan(origin, { fromIndex: 9 })))[0];
      expect(rows[3]).toEqual(scanned);
      expect(rows[3]!.columnMismatch).toEqual(expect.any(String));
    });

    it('recordsByEventId finds a tenant’s events in any log and source system, never another tenant’s', async () => {
      const tenant = uniqueName('t');
      const intruder = uniqueName('t');
      const prefix = uniqueName('phi-audit/conf-by-event');
      const [a, b, c] = [`${prefix}/a`, `${prefix}/b`, `${prefix}/c`];
      const tricky = `evt-${TRICKY}`;
      const event = (t: string, id: (i: number) => string, system: string) => (i: number) =>
        conformanceEvent(i, t, { eventId: id(i), source: { system } });
      const ra = buildRecords(
        a,
        6,
        event(tenant, (i) => (i === 4 ? tricky : `evt-${i}`), 'ehr'),
      );
      const rb = buildRecords(
        b,
        3,
        event(tenant, (i) => `evt-${i}`, 'lab'),
      );
      const rc = buildRecords(
        c,
        4,
        event(intruder, (i) => (i === 3 ? tricky : `evt-${i}`), 'ehr'),
      );
      await h.store.append(rc);
      await h.store.append(rb);
      await h.store.append(ra);

      const found = await h.store.recordsByEventId(tenant, ['evt-1', tricky, 'evt-9', 'evt-1']);
      expect(found).toEqual([ra[1], ra[4], rb[1]]);
      expect(await h.store.recordsByEventId(intruder, [tricky, 'evt-5'])).toEqual([rc[3]]);
      expect(await h.store.recordsByEventId(uniqueName('t'), ['evt-1'])).toEqual([]);
      expect(await h.store.recordsByEventId(tenant, [])).toEqual([]);

      await h.tamper.duplicateRecord(b, 1);
      expect(await h.store.recordsByEventId(tenant, ['evt-1'])).toEqual([ra[1], rb[1], rb[1]]);
    });

    it('rejects malformed arguments with STORE_INVALID_VALUE and stores nothing', async () => {
      const origin = uniqueName('phi-audit/conf-invalid');
      const invalid = { code: 'STORE_INVALID_VALUE' };
      const good = randomTile(origin, 0, 0, 1);
      const badTiles: LogTile[] = [
        { ...good, hashes: Buffer.alloc(0) },
        { ...good, hashes: randomBytes(257 * 32) },
        { ...good, hashes: randomBytes(31) },
        { ...good, level: -1 },
        { ...good, index: 1.5 },
        { ...good, index: Number.NaN },
        { ...good, index: 2 ** 53 },
        { ...good, origin: 'bad \ud800' },
      ];
      for (const bad of badTiles) await expect(h.store.putTiles([good, bad])).rejects.toMatchObject(invalid);
      expect(await h.store.tileCoverage(origin)).toBe(0);

      for (const ids of [[{ level: -1, index: 0 }], [{ level: 0, index: 0.5 }]]) {
        await expect(h.store.readTiles(origin, ids)).rejects.toMatchObject(invalid);
      }
      const tooManyIds = Array.from({ length: MAX_LOOKUP_KEYS + 1 }, (_, index) => ({ level: 0, index }));
      await expect(h.store.readTiles(origin, tooManyIds)).rejects.toMatchObject(invalid);
      expect(await h.store.readTiles(origin, tooManyIds.slice(1))).toEqual([]);
      await expect(h.store.tileCoverage('\ud800')).rejects.toMatchObject(invalid);

      const ckpt = signedCheckpoint(origin, 3, 1);
      const badCheckpoints: StoredCheckpoint[] = [
        { ...ckpt, rootHex: ckpt.rootHex.toUpperCase() },
        { ...ckpt, rootHex: ckpt.rootHex.slice(2) },
        { ...ckpt, size: -1 },
        { ...ckpt, size: 2 ** 53 },
        { ...ckpt, signedAt: 1.5 },
        { ...ckpt, note: `${ckpt.note}\udc00` },
        { ...ckpt, origin: '' },
      ];
      for (const bad of badCheckpoints) await expect(h.store.putCheckpoint(bad)).rejects.toMatchObject(invalid);
      expect(await h.store.checkpoints(origin)).toEqual([]);
      await expect(h.store.checkpoints('\ud800')).rejects.toMatchObject(invalid);
      await expect(h.store.latestCheckpoint('\ud800')).rejects.toMatchObject(invalid);

      for (const index of [-1, 0.5, 2 ** 53, Number.POSITIVE_INFINITY]) {
        await expect(h.store.recordsAt(origin, [0, index])).rejects.toMatchObject(invalid);
      }
      const tooManyIndexes = Array.from({ length: MAX_LOOKUP_KEYS + 1 }, (_, i) => i);
      await expect(h.store.recordsAt(origin, tooManyIndexes)).rejects.toMatchObject(invalid);
      expect(await h.store.recordsAt(origin, tooManyIndexes.slice(1))).toEqual([]);
      await expect(h.store.recordsAt('\ud800', [0])).rejects.toMatchObject(invalid);

      await expect(h.store.recordsByEventId('\ud800', ['e'])).rejects.toMatchObject(invalid);
      await expect(h.store.recordsByEventId('t', ['e', '\udc00'])).rejects.toMatchObject(invalid);
      const tooManyEventIds = Array.from({ length: MAX_LOOKUP_KEYS + 1 }, (_, i) => `e-${i}`);
      await expect(h.store.recordsByEventId('t', tooManyEventIds)).rejects.toMatchObject(invalid);
    });
  });
}
