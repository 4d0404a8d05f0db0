import {
  createMerkleAccumulator,
  createTileNodeReader,
  emptyHead,
  leafHashOf,
  nextChain,
  perfectNodesOf,
  TILE_WIDTH,
  type MerkleAccumulator,
  type LedgerRecord,
  type LogHead,
  type LogTile,
  type TileBuilder,
} from '@phi-audit/ledger';
import { embeddedOrigin, idempotencyKeyOf, type DerivedColumns, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import type { PreparedEvent } from './prepared-event.js';

/** What the group committer needs of the SQLite store (the write connection). */
export type GroupCommitStore = Pick<
  SqliteLedgerStore,
  'head' | 'heads' | 'appendSync' | 'putTiles' | 'readTiles' | 'existingKeys' | 'lastSourceOffset'
>;

/**
 * Loads a log's Merkle tile state at `size` records (loadLogTiles over the write connection).
 * Absent: the committer writes no tiles (only a benchmark measuring their cost does that).
 */
export type LoadTiles = (origin: string, size: number) => Promise<TileBuilder>;

/** A log as a committed transaction left it: what the checkpointer is told. */
export interface LogGrowth {
  origin: string;
  size: number;
  /** Merkle root of the log's `size` records. */
  root: Buffer;
}

/** How one request of a committed group ended: stored (or already stored), or refused alone. */
export type RequestOutcome = { ok: true } | { ok: false; reason: string };

/** The result of a committed group: one outcome per request, in order. */
export interface GroupCommitted {
  outcomes: RequestOutcome[];
  /** Records written by the transaction. */
  records: number;
  /** Events skipped because their idempotency key was already stored (or earlier in the group). */
  duplicates: number;
  /** Every log the transaction extended, with its new size and root (empty without tiles). */
  grown: LogGrowth[];
}

/** Commits groups of requests, one SQLite transaction per group. */
export interface GroupCommitter {
  /**
   * Skips events whose idempotency key is stored, chains the rest onto their tenant's log and
   * writes them in ONE transaction. A request with an event that cannot be chained is refused
   * alone (its outcome says why; nothing of it is written). Throws when the transaction fails:
   * then nothing of the group was stored and the cached heads are dropped.
   */
  commit(requests: readonly (readonly PreparedEvent[])[]): Promise<GroupCommitted>;
  /**
   * Loads the head and tile state of every stored log (as a first commit would) and returns
   * each log's size and root: the writer tells the checkpointer at start, so a log that grew
   * after its last checkpoint (a crash before signing) is signed even if nothing more arrives.
   * Empty without tiles.
   */
  loadLogs(): Promise<LogGrowth[]>;
  /**
   * Stores the tiles held back for `origin` (every cached log without it), in a transaction of
   * their own, so the stored tiles cover the log at its committed head; a log not cached yet is
   * loaded (loadLogTiles repairs what lags). Runs between groups, never inside one. With `size`,
   * throws when the log's committed head is shorter (tiles cannot cover it). Throws when the
   * store refuses the tiles: they stay held back and the next flush (or full tile) writes them.
   * The checkpointer calls it before signing at `size`; the writer on close.
   */
  flushTiles(origin?: string, size?: number): Promise<void>;
}

/**
 * Creates the group committer on `store`. Heads, tile builders and the global sequence are
 * cached as the store confirmed them; a failed transaction drops the cache and the next group
 * reloads it. With `loadTiles`, each group's leaf hashes go into their logs' tile builders. The
 * changed tiles of a log are written in the group's transaction only when the group completes
 * one of its 256-leaf tiles; otherwise they are held back (rewriting the partial level-0 tile,
 * up to 8 KiB, with every small commit is most of the cost of tiles) until the next full tile or
 * flushTiles(). Tiles are derived data: after a crash or a failed transaction they lag their
 * records by less than one tile, and loadLogTiles repairs them from the stored coverage. A
 * checkpoint needs them stored first: the checkpointer calls flushTiles before signing.
 *
 * Per event, the idempotency key (tenant, source.system, eventId) decides: already stored, or
 * earlier in the same group → skipped (its request still succeeds: a retry is acknowledged, not
 * duplicated); otherwise the event gets the next global sequence number as source offset and
 * the next index of its tenant's log (origin `embeddedOrigin(tenant)`), with the ledger's leaf
 * hash (format v1, over its canonical JSON) and chain.
 */
export function createGroupCommitter({
  store,
  loadTiles,
}: {
  store: GroupCommitStore;
  loadTiles?: LoadTiles | undefined;
}): GroupCommitter {
  /** By origin. */
  const heads = new Map<string, LogHead>();
  /** By origin; each at the size of its committed head. */
  const builders = new Map<string, TileBuilder>();
  /**
   * By origin, beside each builder: the log's peaks, for its root after every group in O(log n)
   * hashes (TileBuilder.root() re-hashes the partial tiles: ~130 hashes per small commit).
   */
  const accumulators = new Map<string, MerkleAccumulator>();
  /**
   * By origin: tiles changed since the log's last tile write (by level/index, newest version),
   * not yet stored. Dropped with the builders: the reload repairs what they held.
   */
  const pending = new Map<string, Map<string, LogTile>>();
  let nextOffset: number | undefined;
  /** Commits, loads and tile flushes run one at a time: a flush never sees a group half-applied. */
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const dropCache = (): void => {
    heads.clear();
    builders.clear();
    accumulators.clear();
    pending.clear();
    nextOffset = undefined;
  };

  /** Moves the builder's changed tiles into the log's held-back set; returns that set. */
  const holdChanged = (origin: string, builder: TileBuilder): Map<string, LogTile> => {
    let held = pending.get(origin);
    if (held === undefined) pending.set(origin, (held = new Map<string, LogTile>()));
    // takeChanged gives each tile's complete current contents: a newer version replaces an older.
    for (const tile of builder.takeChanged()) held.set(`${tile.level}/${tile.index}`, { origin, ...tile });
    return held;
  };

  async function flushOne(origin: string, size: number | undefined): Promise<void> {
    if (loadTiles === undefined) return;
    // Not cached (first use, or dropped after a failed transaction): loading repairs and stores.
    await load(origin);
    const builder = builders.get(origin);
    if (builder === undefined) throw new Error('no tile state for the log');
    if (size !== undefined && builder.size < size) {
      throw new Error(`the log has ${builder.size} committed records, fewer than ${size}`);
    }
    // The builder may be ahead of `size`: wider tiles are fine, a tile's prefix never changes.
    const held = holdChanged(origin, builder);
    if (held.size === 0) return;
    const tiles = [...held.values()];
    await store.putTiles(tiles);
    // Cleared only once stored: a refused write keeps them for the next attempt.
    pending.delete(origin);
  }

  async function load(origin: string, known?: LogHead): Promise<void> {
    if (heads.has(origin)) return;
    const head = known ?? (await store.head(origin));
    // Head and builder enter the cache together: a builder is only ever at its head's size.
    const builder = loadTiles === undefined ? undefined : await loadTiles(origin, head.size);
    let accumulator: MerkleAccumulator | undefined;
    if (builder !== undefined) {
      // loadTiles stored the tiles up to the head (repairing what lagged): the peaks are in them.
      const peaks =
        head.size === 0
          ? []
          : await createTileNodeReader((ids) => store.readTiles(origin, ids), head.size)(perfectNodesOf(0, head.size));
      accumulator = createMerkleAccumulator({ size: head.size, peaks });
      if (!accumulator.root().equals(builder.root())) {
        throw new Error('the stored Merkle tiles of the log disagree with its tile state');
      }
    }
    heads.set(origin, head);
    if (builder !== undefined && accumulator !== undefined) {
      builders.set(origin, builder);
      accumulators.set(origin, accumulator);
    }
  }

  return {
    loadLogs: () =>
      serially(async () => {
        try {
          for (const head of await store.heads()) await load(head.origin, head);
        } catch (error) {
          dropCache();
          throw error;
        }
        return [...accumulators].map(([origin, a]) => ({ origin, size: a.size, root: a.root() }));
      }),

    flushTiles: (origin, size) =>
      serially(async () => {
        if (origin !== undefined) return flushOne(origin, size);
        // Every log gets its attempt; the first failure is reported after.
        const failures: unknown[] = [];
        for (const o of [...builders.keys()]) await flushOne(o, undefined).catch((e: unknown) => failures.push(e));
        if (failures.length > 0) throw failures[0] instanceof Error ? failures[0] : new Error('storing tiles failed');
      }),

    commit: (requests) => serially(() => commitGroup(requests)),
  };

  async function commitGroup(requests: readonly (readonly PreparedEvent[])[]): Promise<GroupCommitted> {
    try {
      const tenants = new Set<string>();
      for (const events of requests) for (const { columns } of events) tenants.add(columns.tenant);
      for (const tenant of tenants) await load(embeddedOrigin(tenant));
      nextOffset ??= store.lastSourceOffset() + 1;
      const keyOf = (c: DerivedColumns): string =>
        idempotencyKeyOf({ tenant: c.tenant, sourceSystem: c.source_system, eventId: c.event_id });
      const existing = store.existingKeys(
        requests.flatMap((events) =>
          events.map(({ columns: c }) => ({ tenant: c.tenant, sourceSystem: c.source_system, eventId: c.event_id })),
        ),
      );
      /** Heads as this group extends them (committed heads stay in `heads` until the commit). */
      const building = new Map<string, LogHead>();
      const seen = new Set<string>();
      const records: LedgerRecord[] = [];
      const derived: DerivedColumns[] = [];
      const outcomes: RequestOutcome[] = [];
      let offset = nextOffset;
      let duplicates = 0;
      for (const events of requests) {
        // A request whose events cannot be chained is refused alone: roll back to here.
        const mark = { records: records.length, offset, building: new Map(building) };
        const added: string[] = [];
        let skipped = 0;
        try {
          for (const { eventJson, columns } of events) {
            const key = keyOf(columns);
            if (existing.has(key) || seen.has(key)) {
              skipped += 1;
              continue;
            }
            seen.add(key);
            added.push(key);
            const origin = embeddedOrigin(columns.tenant);
            const head = building.get(origin) ?? heads.get(origin) ?? emptyHead(origin);
            if (offset <= head.lastSourceOffset) throw new Error('the ingest sequence does not move forward');
            // leafHashOf checks origin, index, offset, eventId and eventJson; nextChain both hashes.
            const leafHash = leafHashOf({
              origin: head.origin,
              index: head.size,
              sourceOffset: offset,
              eventId: columns.event_id,
              eventJson,
            });
            const chain = nextChain(head.chain, leafHash);
            records.push({
              origin: head.origin,
              index: head.size,
              sourceOffset: offset,
              eventId: columns.event_id,
              tenant: columns.tenant,
              eventJson,
              leafHash,
              chain,
            });
            derived.push(columns);
            building.set(origin, {
              origin: head.origin,
              size: head.size + 1,
              chain,
              lastSourceOffset: offset,
            });
            offset += 1;
          }
          outcomes.push({ ok: true });
          duplicates += skipped;
        } catch (error) {
          records.length = mark.records;
          derived.length = mark.records;
          offset = mark.offset;
          for (const key of added) seen.delete(key);
          building.clear();
          for (const [t, h] of mark.building) building.set(t, h);
          const code = (error as { code?: unknown }).code;
          const why = typeof code === 'string' ? code : 'error';
          outcomes.push({ ok: false, reason: `the events could not be chained (${why})` });
        }
      }
      // Only now, with the group's records final, do the builders move: a refused request
      // above never reaches them. From here on they are ahead of the store until the commit.
      const tiles: LogTile[] = [];
      /** Logs whose held-back tiles this transaction writes. */
      const written: string[] = [];
      if (loadTiles !== undefined) {
        const leaves = new Map<string, Buffer[]>();
        for (const r of records) {
          let list = leaves.get(r.origin);
          if (list === undefined) leaves.set(r.origin, (list = []));
          list.push(Buffer.from(r.leafHash, 'hex'));
        }
        for (const [origin, hashes] of leaves) {
          const builder = builders.get(origin);
          const accumulator = accumulators.get(origin);
          if (builder === undefined || accumulator === undefined)
            throw new Error('no tile state for a log of the group');
          const before = builder.size;
          builder.append(hashes);
          for (const hash of hashes) accumulator.append(hash);
          const held = holdChanged(origin, builder);
          // A full level-0 tile is written once, with the records that complete it (and every
          // tile of the log held back until then): tiles never lag by a whole tile.
          if (Math.floor(before / TILE_WIDTH) !== Math.floor(builder.size / TILE_WIDTH)) {
            tiles.push(...held.values());
            written.push(origin);
          }
        }
      }
      // Records and the tiles written with them in ONE transaction: those tiles never get ahead.
      if (records.length > 0) store.appendSync(records, derived, tiles);
      for (const origin of written) pending.delete(origin);
      nextOffset = offset;
      const grown: LogGrowth[] = [];
      for (const [origin, h] of building) {
        heads.set(origin, h);
        const accumulator = accumulators.get(origin);
        if (accumulator !== undefined) grown.push({ origin, size: accumulator.size, root: accumulator.root() });
      }
      return { outcomes, records: records.length, duplicates, grown };
    } catch (error) {
      // The transaction rolled back (or never ran): what we cached may be ahead of the store.
      dropCache();
      throw error;
    }
  }
}
