import { emptyHead, leafHashOf, nextChain, type LedgerRecord, type LogHead } from '@phi-audit/ledger';
import { embeddedOrigin, idempotencyKeyOf, type DerivedColumns, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import type { PreparedEvent } from './prepared-event.js';

/** What the group committer needs of the SQLite store (the write connection). */
export type GroupCommitStore = Pick<SqliteLedgerStore, 'head' | 'appendSync' | 'existingKeys' | 'lastSourceOffset'>;

/** How one request of a committed group ended: stored (or already stored), or refused alone. */
export type RequestOutcome = { ok: true } | { ok: false; reason: string };

/** The result of a committed group: one outcome per request, in order. */
export interface GroupCommitted {
  outcomes: RequestOutcome[];
  /** Records written by the transaction. */
  records: number;
  /** Events skipped because their idempotency key was already stored (or earlier in the group). */
  duplicates: number;
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
}

/**
 * Creates the group committer on `store`. Heads and the global sequence are cached as the store
 * confirmed them; a failed transaction drops the cache and the next group reloads it.
 *
 * Per event, the idempotency key (tenant, source.system, eventId) decides: already stored, or
 * earlier in the same group → skipped (its request still succeeds: a retry is acknowledged, not
 * duplicated); otherwise the event gets the next global sequence number as source offset and
 * the next index of its tenant's log (origin `embeddedOrigin(tenant)`), with the ledger's leaf
 * hash (format v1, over its canonical JSON) and chain.
 */
export function createGroupCommitter({ store }: { store: GroupCommitStore }): GroupCommitter {
  const heads = new Map<string, LogHead>();
  let nextOffset: number | undefined;

  return {
    async commit(requests) {
      try {
        for (const events of requests) {
          for (const { columns } of events) {
            if (!heads.has(columns.tenant)) {
              heads.set(columns.tenant, await store.head(embeddedOrigin(columns.tenant)));
            }
          }
        }
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
              const head =
                building.get(columns.tenant) ?? heads.get(columns.tenant) ?? emptyHead(embeddedOrigin(columns.tenant));
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
              building.set(columns.tenant, {
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
        if (records.length > 0) store.appendSync(records, derived);
        nextOffset = offset;
        for (const [t, h] of building) heads.set(t, h);
        return { outcomes, records: records.length, duplicates };
      } catch (error) {
        // The transaction rolled back (or never ran): what we cached may be ahead of the store.
        heads.clear();
        nextOffset = undefined;
        throw error;
      }
    },
  };
}
