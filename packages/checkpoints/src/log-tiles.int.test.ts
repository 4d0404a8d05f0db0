import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createChainBuilder,
  createTileBuilder,
  emptyHead,
  rootOfLeafHashes,
  type LedgerRecord,
  type LogTile,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { ACCESS_LOG_COLUMNS, createSqliteLedgerStore, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCheckpointError } from './errors.js';
import { loadLogTiles } from './log-tiles.js';

const ORIGIN = 'phi-audit/tiles-test/0';

function eventOf(i: number): AccessEvent {
  return {
    eventId: `evt-${i}`,
    tenant: 'clinic',
    occurredAt: 1_714_573_800_000 + i,
    receivedAt: 1_714_573_900_000 + i,
    source: { system: 'ehr' },
    actor: { userId: `user-${i % 3}` },
    patient: { id: `patient-${i % 5}` },
    action: 'view',
    resource: { type: 'Encounter' },
    outcome: 'success',
  };
}

/** `count` records of ORIGIN (source offsets are unique across the file: offsetBase + index). */
function recordsOf(count: number, offsetBase = 1): LedgerRecord[] {
  const chain = createChainBuilder(emptyHead(ORIGIN));
  return Array.from({ length: count }, (_, i) => chain.append({ sourceOffset: offsetBase + i, event: eventOf(i) }));
}

const leaves = (records: readonly LedgerRecord[]): Buffer[] => records.map((r) => Buffer.from(r.leafHash, 'hex'));
const withOrigin = (tiles: readonly { level: number; index: number; hashes: Buffer }[]): LogTile[] =>
  tiles.map((t) => ({ ...t, origin: ORIGIN }));

/**
 * Stores `records`, with their tiles only for the first `tiled` of them: what a ClickHouse writer
 * killed between the records insert and the tiles insert leaves behind.
 */
async function storeWithLaggingTiles(store: SqliteLedgerStore, records: LedgerRecord[], tiled: number): Promise<void> {
  const tiles = createTileBuilder({ size: 0, rightEdge: [] });
  tiles.append(leaves(records.slice(0, tiled)));
  if (tiled > 0) await store.append(records.slice(0, tiled), withOrigin(tiles.takeChanged()));
  if (records.length > tiled) await store.append(records.slice(tiled));
}

describe('loadLogTiles (real SQLite store)', () => {
  let dir: string;
  let file: string;
  let store: SqliteLedgerStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-audit-log-tiles-'));
    file = join(dir, 'ledger.sqlite');
    store = createSqliteLedgerStore({ file });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an empty log: an empty builder', async () => {
    const builder = await loadLogTiles(store, ORIGIN, 0);
    expect(builder.size).toBe(0);
    expect(builder.root()).toEqual(rootOfLeafHashes([]));
  });

  it('records stored without any tiles: rebuilt from the start, stored, and the root is the log root', async () => {
    const records = recordsOf(700);
    await storeWithLaggingTiles(store, records, 0);
    expect(await store.tileCoverage(ORIGIN)).toBe(0);
    const builder = await loadLogTiles(store, ORIGIN, 700);
    expect(builder.size).toBe(700);
    expect(builder.root()).toEqual(rootOfLeafHashes(leaves(records)));
    expect(await store.tileCoverage(ORIGIN)).toBe(700);
    // Nothing left over for the writer's first batch to store again.
    expect(builder.takeChanged()).toEqual([]);
    // Loaded again: straight from the stored tiles.
    const again = await loadLogTiles(store, ORIGIN, 700);
    expect(again.root()).toEqual(builder.root());
  });

  it('tiles lagging the records: repaired from the partial tile at the coverage, and the log continues', async () => {
    const records = recordsOf(1_000);
    await storeWithLaggingTiles(store, records.slice(0, 900), 600);
    expect(await store.tileCoverage(ORIGIN)).toBe(600);
    const builder = await loadLogTiles(store, ORIGIN, 900);
    expect(builder.root()).toEqual(rootOfLeafHashes(leaves(records.slice(0, 900))));
    expect(await store.tileCoverage(ORIGIN)).toBe(900);
    // The writer continues with this builder: the stored tiles then describe the longer log.
    builder.append(leaves(records.slice(900)));
    await store.append(records.slice(900), withOrigin(builder.takeChanged()));
    expect(builder.root()).toEqual(rootOfLeafHashes(leaves(records)));
    const reloaded = await loadLogTiles(store, ORIGIN, 1_000);
    expect(reloaded.root()).toEqual(rootOfLeafHashes(leaves(records)));
  });

  it('any crash point: the repaired root equals the root of all leaf hashes', async () => {
    // One log per run: fast-check may draw the same (size, tiled) twice.
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 1_300 })
          .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size }))),
        async ([size, tiled]) => {
          const origin = `${ORIGIN}-${(run += 1)}`;
          const chain = createChainBuilder(emptyHead(origin));
          const base = (await store.heads()).reduce((n, h) => Math.max(n, h.lastSourceOffset + 1), 1);
          const records = Array.from({ length: size }, (_, i) =>
            chain.append({ sourceOffset: base + i, event: eventOf(i) }),
          );
          const tiles = createTileBuilder({ size: 0, rightEdge: [] });
          tiles.append(leaves(records.slice(0, tiled)));
          const changed = tiles.takeChanged().map((t) => ({ ...t, origin }));
          if (tiled > 0) await store.append(records.slice(0, tiled), changed);
          if (size > tiled) await store.append(records.slice(tiled));
          const builder = await loadLogTiles(store, origin, size);
          expect(builder.root()).toEqual(rootOfLeafHashes(leaves(records)));
          expect(await store.tileCoverage(origin)).toBe(size);
        },
      ),
      { numRuns: 25 },
    );
  });

  describe('a damaged log is refused with CHECKPOINT_TILES_UNRECOVERABLE', () => {
    let attacker: Database.Database;
    beforeEach(() => {
      attacker = new Database(file);
    });
    afterEach(() => attacker.close());

    const refusal = async (size: number): Promise<unknown> =>
      loadLogTiles(store, ORIGIN, size).catch((e: unknown) => e);

    it('a missing row in the range to re-hash', async () => {
      await storeWithLaggingTiles(store, recordsOf(600), 300);
      attacker.prepare('DELETE FROM access_log WHERE log = ? AND idx = ?').run(ORIGIN, 400);
      const err = await refusal(600);
      expect(isCheckpointError(err, 'CHECKPOINT_TILES_UNRECOVERABLE')).toBe(true);
      expect((err as Error).message).toContain('index 400 is missing');
    });

    it('a missing tail row', async () => {
      await storeWithLaggingTiles(store, recordsOf(600), 300);
      attacker.prepare('DELETE FROM access_log WHERE log = ? AND idx = ?').run(ORIGIN, 599);
      expect(isCheckpointError(await refusal(600), 'CHECKPOINT_TILES_UNRECOVERABLE')).toBe(true);
    });

    it('a duplicated row', async () => {
      await storeWithLaggingTiles(store, recordsOf(600), 300);
      const columns = ACCESS_LOG_COLUMNS.join(', ');
      attacker
        .prepare(
          `INSERT INTO access_log (seq, ${columns}) SELECT (SELECT max(seq) + 1 FROM access_log), ${columns} FROM access_log WHERE log = ? AND idx = ?`,
        )
        .run(ORIGIN, 450);
      const err = await refusal(600);
      expect(isCheckpointError(err, 'CHECKPOINT_TILES_UNRECOVERABLE')).toBe(true);
      expect((err as Error).message).toContain('index 450 is stored more than once');
    });

    it('tiles covering more leaves than the log has records (tail cut off)', async () => {
      await storeWithLaggingTiles(store, recordsOf(600), 600);
      attacker.prepare('DELETE FROM access_log WHERE log = ? AND idx >= ?').run(ORIGIN, 550);
      const err = await refusal(550);
      expect(isCheckpointError(err, 'CHECKPOINT_TILES_UNRECOVERABLE')).toBe(true);
      expect((err as Error).message).toContain('cover 600 leaves');
    });
  });
});
