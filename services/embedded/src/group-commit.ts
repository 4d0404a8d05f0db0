import {
  emptyHead,
  leafHashOf,
  nextChain,
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
  'head' | 'heads' | 'appendSync' | 'existingKeys' | 'lastSourceOffset'
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
}

/**
 * Creates the group committer on `store`. Heads, tile builders and the global sequence are
 * cached as the store confirmed them; a failed transaction drops the cache and the next group
 * reloads it. With `loadTiles`, each group's leaf hashes go into their logs' tile builders and
 * the changed tiles are written in the same transaction as the records.
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
  let nextOffset: number | undefined;

  const dropCache = (): void => {
    heads.clear();
    builders.clear();
    nextOffset = undefined;
  };

  async function load(origin: string, known?: LogHead): Promise<void> {
    if (heads.has(origin)) return;
    const head = known ?? (await store.head(origin));
    // Head and builder enter the cache together: a builder is only ever at its head's size.
    const builder = loadTiles === undefined ? undefined : await loadTiles(origin, head.size);
    heads.set(origin, head);
    if (builder !== undefined) builders.set(origin, builder);
  }

  return {
    async loadLogs() {
      try {
        for (const head of await store.heads()) await load(head.origin, head);
      } catch (error) {
        dropCache();
        throw error;
      }
      return [...builders].map(([origin, b]) => ({ origin, size: b.size, root: b.root() }));
    },

    async commit(requests) {
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
        if (loadTiles !== undefined) {
          const leaves = new Map<string, Buffer[]>();
          for (const r of records) {
            let list = leaves.get(r.origin);
            if (list === undefined) leaves.set(r.origin, (list = []));
            list.push(Buffer.from(r.leafHash, 'hex'));
          }
          for (const [origin, hashes] of leaves) {
            const builder = builders.get(origin);
            if (builder === undefined) throw new Error('no tile state for a log of the group');
            builder.append(hashes);
            for (const tile of builder.takeChanged()) tiles.push({ origin, ...tile });
          }
        }
        // Records and their tiles in ONE transaction: a crash never leaves one without the other.
        if (records.length > 0) store.appendSync(records, derived, tiles);
        nextOffset = offset;
        const grown: LogGrowth[] = [];
        for (const [origin, h] of building) {
          heads.set(origin, h);
          const builder = builders.get(origin);
          if (builder !== undefined) grown.push({ origin, size: builder.size, root: builder.root() });
        }
        return { outcomes, records: records.length, duplicates, grown };
      } catch (error) {
        // The transaction rolled back (or never ran): what we cached may be ahead of the store.
        dropCache();
        throw error;
      }
    },
  };
}
