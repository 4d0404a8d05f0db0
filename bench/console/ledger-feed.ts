import { setImmediate as turnEventLoop } from 'node:timers/promises';
import { createChainBuilder, type ChainBuilder, type LedgerRecord, type LedgerStore } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';

/**
 * Real ledger records for the console benchmark: events become hash-chained records of their
 * log (one chain builder per origin, continued from the stored head) and reach the store only
 * through its append(), in batches. The same feed is the console audit trail's publisher, so the
 * console's own accesses are chained onto the logs the benchmark built.
 */
export interface LedgerFeed {
  /** Chains `event` onto its log; stored by the next flush (or automatically when a batch fills). */
  add(event: AccessEvent): Promise<void>;
  /** Appends everything added so far; resolves once the store acknowledged it. */
  flush(): Promise<void>;
  /** Records appended so far. */
  appended(): number;
  /** As a console audit trail's `publish`: chain, append, resolve after the store acknowledged. */
  publish(events: readonly AccessEvent[]): Promise<void>;
}

/** Events chained between two turns of the event loop (see createLedgerFeed). */
const TURN_EVERY = 500;

export interface LedgerFeedOptions {
  store: Pick<LedgerStore, 'append' | 'head'>;
  /** The log of an event (embedded mode: its tenant's; cluster mode: its Kafka partition's). */
  originOf(event: AccessEvent): string;
  /**
   * The source offset of the next record of `origin` whose head is `lastSourceOffset`: SQLite's is
   * the global ingest sequence (the row's primary key), ClickHouse's the partition offset.
   */
  nextOffset(origin: string, lastSourceOffset: number): number;
  /** Records per append (the store's batch limits apply). */
  batch: number;
}

/**
 * Creates a feed. Appends run one at a time in order, but the next batch is chained while the
 * previous append is in flight (two cores: ours builds, the database's stores).
 */
export function createLedgerFeed(options: LedgerFeedOptions): LedgerFeed {
  const builders = new Map<string, ChainBuilder>();
  let pending: LedgerRecord[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let count = 0;

  const builderOf = async (origin: string): Promise<ChainBuilder> => {
    let builder = builders.get(origin);
    if (builder === undefined) {
      builder = createChainBuilder(await options.store.head(origin));
      builders.set(origin, builder);
    }
    return builder;
  };

  /**
   * Chaining events is one long run of microtasks, and an append in flight only makes progress
   * (its request body streamed, its keep-alive socket's timers run) when the event loop turns:
   * starved, a ClickHouse insert stalls mid-body and the server drops it (EPIPE). So the loop
   * turns every TURN_EVERY events.
   */
  let sinceTurn = 0;

  const send = async (): Promise<void> => {
    const records = pending;
    pending = [];
    await inFlight;
    if (records.length === 0) return;
    inFlight = options.store.append(records);
    await inFlight;
    count += records.length;
  };

  const add = async (event: AccessEvent): Promise<void> => {
    if (++sinceTurn >= TURN_EVERY) {
      sinceTurn = 0;
      await turnEventLoop();
    }
    const origin = options.originOf(event);
    const builder = await builderOf(origin);
    const sourceOffset = options.nextOffset(origin, builder.head().lastSourceOffset);
    pending.push(builder.append({ sourceOffset, event }));
    if (pending.length >= options.batch) {
      // Wait for the previous append only: this batch goes out while the caller chains the next.
      const records = pending;
      pending = [];
      await inFlight;
      inFlight = options.store.append(records).then(() => {
        count += records.length;
      });
    }
  };

  let publishing: Promise<unknown> = Promise.resolve();
  return {
    add,
    flush: async () => {
      await send();
      await inFlight;
    },
    appended: () => count,
    publish(events) {
      const run = publishing.then(async () => {
        for (const event of events) await add(event);
        await send();
      });
      publishing = run.catch(() => undefined);
      return run;
    },
  };
}
