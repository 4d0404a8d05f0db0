import type { PostedEvent } from './synthetic-events.js';

export interface LoadResult {
  /** Every event id sent in a request (answered or not). */
  attempted: Set<string>;
  /** Event ids whose request got a 2xx. */
  acknowledged: Set<string>;
  /** Requests answered with a non-2xx status or failed on the network. */
  failedRequests: number;
  statuses: Map<number, number>;
}

/** One request: a tenant's events, optionally already serialised (benchmarks keep JSON.stringify out of the timed run). */
export interface LoadBatch {
  tenant: string;
  events: PostedEvent[];
  /** The request body; default JSON.stringify(events). */
  body?: string;
}

export interface LoadOptions {
  url: string;
  /** Ingest key per tenant. */
  keys: ReadonlyMap<string, string>;
  batches: AsyncIterable<LoadBatch> | Iterable<LoadBatch>;
  concurrency: number;
  /** Paces the load to about this many events per second (default: as fast as answered). */
  eventsPerSecond?: number;
  /** Called after each answered request; lets fault tests act mid-load. */
  onProgress?: (acknowledged: number) => void;
}

/**
 * Posts batches with bounded concurrency and records exactly which event ids were
 * acknowledged: the input to the no-loss oracle. No retries: a failed request is counted,
 * its events are attempted but not acknowledged.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { attempted: new Set(), acknowledged: new Set(), failedRequests: 0, statuses: new Map() };
  const iterator =
    Symbol.asyncIterator in options.batches ? options.batches[Symbol.asyncIterator]() : toAsync(options.batches);
  const start = performance.now();
  let scheduled = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      const { tenant, events, body } = next.value;
      if (options.eventsPerSecond !== undefined) {
        const due = start + (scheduled / options.eventsPerSecond) * 1000;
        scheduled += events.length;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      }
      for (const e of events) result.attempted.add(e.eventId);
      let status = 0;
      try {
        const response = await fetch(`${options.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.keys.get(tenant) ?? ''}` },
          body: body ?? JSON.stringify(events),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = 0;
      }
      result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) for (const e of events) result.acknowledged.add(e.eventId);
      else result.failedRequests += 1;
      options.onProgress?.(result.acknowledged.size);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return result;
}

function toAsync<T>(items: Iterable<T>): AsyncIterator<T> {
  const it = items[Symbol.iterator]();
  return { next: () => Promise.resolve(it.next()) };
}
