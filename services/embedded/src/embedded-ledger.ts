import { errorSummary, type BusLogger, type EventPublisher, type PublisherStats } from '@phi-audit/bus-kafka';
import { createChainBuilder, type ChainBuilder, type LedgerRecord, type LogHead } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { embeddedOrigin, idempotencyKeyOf, isStoreError, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import type { EmbeddedMetrics } from './embedded-metrics.js';
import { EmbeddedError } from './errors.js';

/** What the embedded ledger needs of the SQLite store. */
export type EmbeddedStore = Pick<SqliteLedgerStore, 'head' | 'appendSync' | 'existingKeys' | 'lastSourceOffset'>;

export interface EmbeddedLedgerOptions {
  store: EmbeddedStore;
  logger: BusLogger;
  /** Events per transaction before a group is split (a request is never split). Default 20,000. */
  maxGroupEvents?: number;
  /**
   * Ingest requests being processed right now (received, not yet answered). A group waits for
   * those that have not reached publish() yet, up to `maxLingerMs`. Default: none (no waiting).
   */
  inFlight?: () => number;
  /** Longest wait for in-flight requests to join a group (ms). Default 2. */
  maxLingerMs?: number;
  metrics?: EmbeddedMetrics;
}

/** Counters of what the ledger did; group commit shows as `sends` (transactions) ≪ `publishes`. */
export interface EmbeddedLedgerStats extends PublisherStats {
  /** Events acknowledged without a new record: their idempotency key was already stored. */
  duplicates: number;
}

/** The embedded mode's EventPublisher: events go straight into the SQLite ledger. */
export interface EmbeddedLedger extends EventPublisher {
  stats(): EmbeddedLedgerStats;
}

interface Pending {
  events: readonly AccessEvent[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export const DEFAULT_MAX_GROUP_EVENTS = 20_000;

/** Takes whole requests off the front of the queue, up to `max` events (at least one request). */
function takeGroup(queue: Pending[], max: number): Pending[] {
  let events = 0;
  let count = 0;
  for (const p of queue) {
    if (count > 0 && events + p.events.length > max) break;
    events += p.events.length;
    count += 1;
  }
  return queue.splice(0, count);
}

function failureOf(error: unknown): EmbeddedError {
  return isStoreError(error, 'STORE_FULL')
    ? new EmbeddedError(
        'EMBEDDED_STORAGE_FULL',
        'the ledger disk is full (or its PHI_AUDIT_MAX_DB_PAGES quota is reached); nothing was stored',
        { cause: error },
      )
    : new EmbeddedError('EMBEDDED_STORE_FAILED', 'the ledger transaction failed; nothing was stored', {
        cause: error,
      });
}

/**
 * Creates the embedded ledger. Group commit: publish() calls queued in the same tick are
 * committed together in ONE SQLite transaction (appendSync is synchronous, so requests that
 * arrive during a commit queue up and form the next group); each caller settles with its group.
 *
 * Per event, the idempotency key (tenant, source.system, eventId) decides: already stored, or
 * earlier in the same group → skipped, its caller still succeeds (a retry is acknowledged, not
 * duplicated); otherwise the event gets the next global sequence number as source offset and
 * the next index of its tenant's log (origin `embeddedOrigin(tenant)`).
 *
 * Heads and the sequence are cached as the store confirmed them; any failed commit drops the
 * cache (the transaction rolled back) and the next group reloads it from the store.
 */
export function createEmbeddedLedger(options: EmbeddedLedgerOptions): EmbeddedLedger {
  const { store, logger, metrics } = options;
  const maxGroupEvents = options.maxGroupEvents ?? DEFAULT_MAX_GROUP_EVENTS;
  const maxLingerMs = options.maxLingerMs ?? 2;
  const inFlight = options.inFlight ?? ((): number => 0);
  const queue: Pending[] = [];
  /** Committed head per tenant. */
  const heads = new Map<string, LogHead>();
  let nextOffset: number | undefined;
  let scheduled = false;
  let running: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let lastCommitFailed = false;
  const stats: EmbeddedLedgerStats = { publishes: 0, sends: 0, events: 0, failedSends: 0, duplicates: 0 };

  async function loadHeads(group: readonly Pending[]): Promise<void> {
    for (const p of group) {
      for (const e of p.events) {
        if (!heads.has(e.tenant)) heads.set(e.tenant, await store.head(embeddedOrigin(e.tenant)));
      }
    }
    nextOffset ??= store.lastSourceOffset() + 1;
  }

  async function commit(group: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const groupEvents = group.reduce((n, p) => n + p.events.length, 0);
    try {
      await loadHeads(group);
      const existing = store.existingKeys(
        group.flatMap((p) =>
          p.events.map((e) => ({ tenant: e.tenant, sourceSystem: e.source.system, eventId: e.eventId })),
        ),
      );
      const builders = new Map<string, ChainBuilder>();
      const builderFor = (tenant: string): ChainBuilder => {
        let b = builders.get(tenant);
        if (b === undefined) {
          b = createChainBuilder(heads.get(tenant) as LogHead);
          builders.set(tenant, b);
        }
        return b;
      };
      const seen = new Set<string>();
      const records: LedgerRecord[] = [];
      const accepted: Pending[] = [];
      let offset = nextOffset as number;
      let duplicates = 0;
      for (const p of group) {
        // A caller whose events the chain builder refuses is rejected alone: roll back to here.
        const mark = { records: records.length, offset, heads: new Map([...builders].map(([t, b]) => [t, b.head()])) };
        const added: string[] = [];
        let skipped = 0;
        try {
          for (const e of p.events) {
            const key = idempotencyKeyOf({ tenant: e.tenant, sourceSystem: e.source.system, eventId: e.eventId });
            if (existing.has(key) || seen.has(key)) {
              skipped += 1;
              continue;
            }
            seen.add(key);
            added.push(key);
            records.push(builderFor(e.tenant).append({ sourceOffset: offset, event: e }));
            offset += 1;
          }
          accepted.push(p);
          duplicates += skipped;
        } catch (error) {
          records.length = mark.records;
          offset = mark.offset;
          for (const key of added) seen.delete(key);
          builders.clear();
          for (const [t, h] of mark.heads) builders.set(t, createChainBuilder(h));
          logger.error({ ...errorSummary(error), events: p.events.length }, 'events refused by the chain builder');
          p.reject(new EmbeddedError('EMBEDDED_STORE_FAILED', 'the events could not be chained', { cause: error }));
        }
      }
      if (records.length > 0) store.appendSync(records);
      nextOffset = offset;
      for (const [t, b] of builders) heads.set(t, b.head());
      lastCommitFailed = false;
      stats.sends += 1;
      stats.publishes += accepted.length;
      stats.events += records.length;
      stats.duplicates += duplicates;
      metrics?.transactions.inc({ outcome: 'committed' });
      metrics?.eventsCommitted.inc(records.length);
      metrics?.duplicatesSkipped.inc(duplicates);
      metrics?.groupEvents.observe(groupEvents);
      metrics?.commitSeconds.observe({ outcome: 'committed' }, seconds());
      for (const p of accepted) p.resolve();
    } catch (error) {
      // The transaction rolled back: what we cached may be ahead of the store.
      heads.clear();
      nextOffset = undefined;
      lastCommitFailed = true;
      const failure = failureOf(error);
      const outcome = failure.code === 'EMBEDDED_STORAGE_FULL' ? 'storage_full' : 'failed';
      stats.failedSends += 1;
      metrics?.transactions.inc({ outcome });
      metrics?.commitSeconds.observe({ outcome }, seconds());
      logger.error(
        { ...errorSummary(failure), requests: group.length, events: groupEvents },
        'ledger commit failed; nothing of the group was stored',
      );
      for (const p of group) p.reject(failure);
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) await commit(takeGroup(queue, maxGroupEvents));
  }

  function schedule(): void {
    if (scheduled || running !== undefined) return;
    scheduled = true;
    const since = performance.now();
    const tick = (): void => {
      // Requests still being read or validated join this group (for up to maxLingerMs): each
      // commit costs an fsync, and concurrent requests reach publish() over several ticks.
      // A lone request is committed at the first check.
      if (queue.length < inFlight() && performance.now() - since < maxLingerMs) {
        setImmediate(tick);
        return;
      }
      scheduled = false;
      running = drain().finally(() => {
        running = undefined;
        if (queue.length > 0) schedule();
      });
    };
    setImmediate(tick);
  }

  return {
    publish(events) {
      if (closing !== undefined) {
        return Promise.reject(new EmbeddedError('EMBEDDED_CLOSED', 'the ledger is shutting down; nothing was stored'));
      }
      if (events.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ events, resolve, reject });
        schedule();
      });
    },
    isReady() {
      return Promise.resolve(closing === undefined && !lastCommitFailed);
    },
    stats() {
      return { ...stats };
    },
    close() {
      closing ??= (async () => {
        // Everything queued before close() is committed (or rejected) before this resolves.
        while (scheduled || running !== undefined || queue.length > 0) {
          await (running ?? new Promise((r) => setImmediate(r)));
        }
      })();
      return closing;
    },
  };
}
