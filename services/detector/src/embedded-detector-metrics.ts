import type { Metric, Registry } from 'prom-client';

/** One series of a metric; a histogram's buckets, sum and count are told apart by `metricName`. */
export interface RelayedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One metric as a registry's `getMetricsAsJSON()` gives it. */
export interface RelayedMetric {
  name: string;
  help: string;
  /** `counter`, `gauge`, `histogram` or `summary`. */
  type: string;
  aggregator: string;
  values: RelayedValue[];
}

/** What the detector thread posts to the main thread. Plain data (structured-clone safe). */
export type DetectorMetricsSnapshot = RelayedMetric[];

/**
 * A registry's metrics as a snapshot. prom-client's typings declare `type` a numeric enum
 * while the values are its names (`'counter'`); this copies what a Registry needs to serve them.
 */
export async function snapshotOf(registry: Registry): Promise<DetectorMetricsSnapshot> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((m) => ({
    name: m.name,
    help: m.help,
    type: String(m.type),
    aggregator: m.aggregator,
    values: m.values.map((v) => {
      const metricName = (v as { metricName?: unknown }).metricName;
      return {
        value: v.value,
        labels: { ...(v.labels as Record<string, string | number>) },
        ...(typeof metricName === 'string' ? { metricName } : {}),
      };
    }),
  }));
}

/** A fresh snapshot is awaited this long on a scrape; a busy thread's periodic one is served after that. */
const REFRESH_TIMEOUT_MS = 500;
/** A snapshot this recent is served without asking the thread again (one scrape reads every metric). */
const FRESH_MS = 100;

export interface DetectorMetricsRelayOptions {
  /** Where the detector's metrics appear (embedded mode: the collector app's, served on /metrics). */
  registry: Registry;
  /**
   * Asks the running thread for a snapshot, which arrives through `update`; false when no thread
   * runs. Called when the registry is scraped. Default: never asks (the periodic snapshots only).
   */
  requestSnapshot?: () => boolean;
}

/** The main thread's side of the detector thread's metrics. */
export interface DetectorMetricsRelay {
  /** The running thread's latest snapshot: replaces the previous one of the same thread. */
  update(snapshot: DetectorMetricsSnapshot): void;
  /**
   * The thread stopped. Its counters' and histograms' last values are carried into its
   * replacement's, so they never go down while the process runs; its gauges (lag, last event
   * time) are dropped until the replacement reports its own.
   */
  threadEnded(): void;
}

/** Counters and histograms (buckets, sum, count) only ever grow: they add up across threads. */
function isCumulative(type: string): boolean {
  return type === 'counter' || type === 'histogram';
}

function seriesKey(name: string, value: RelayedValue): string {
  const labels = Object.entries(value.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([value.metricName ?? name, labels]);
}

/**
 * Serves the metrics of a thread's prom-client registry on another registry, under the same
 * names: each metric named in a snapshot is registered once (on first sight) as a read-only
 * metric whose values are the latest snapshot's, plus, for counters and histograms, what the
 * threads before it had counted. This is the mechanism of prom-client's AggregatorRegistry
 * (metrics whose `get()` returns collected values), kept live instead of built per scrape.
 */
export function createDetectorMetricsRelay(options: DetectorMetricsRelayOptions): DetectorMetricsRelay {
  const { registry, requestSnapshot } = options;
  let current = new Map<string, RelayedMetric>();
  /** Per metric: the summed last values of the threads that ended, by series. */
  const carried = new Map<string, Map<string, RelayedValue>>();
  const registered = new Set<string>();
  let updatedAt = 0;
  let waiters: (() => void)[] = [];
  let refreshing: Promise<void> | undefined;

  function refresh(): Promise<void> {
    if (requestSnapshot === undefined || Date.now() - updatedAt < FRESH_MS) return Promise.resolve();
    refreshing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REFRESH_TIMEOUT_MS);
      timer.unref();
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (!requestSnapshot()) resolve();
    }).finally(() => {
      refreshing = undefined;
      waiters = [];
    });
    return refreshing;
  }

  function view(name: string, fallback: RelayedMetric) {
    const latest = current.get(name);
    const base = latest ?? { ...fallback, values: [] };
    const before = carried.get(name);
    if (before === undefined || !isCumulative(base.type)) return base;
    const values = new Map<string, RelayedValue>();
    for (const v of base.values) {
      const key = seriesKey(name, v);
      values.set(key, { ...v, value: v.value + (before.get(key)?.value ?? 0) });
    }
    for (const [key, v] of before) if (!values.has(key)) values.set(key, v);
    return { ...base, values: [...values.values()] };
  }

  function register(metric: RelayedMetric): void {
    const { name } = metric;
    registered.add(name);
    // Another component's metric of that name keeps its place; the detector's names are its own.
    if (registry.getSingleMetric(name) !== undefined) return;
    const relayed = {
      name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator,
      get: async () => {
        await refresh();
        return view(name, metric);
      },
      reset: () => undefined,
    };
    // A Registry reads `name`, `help`, `type` and `get()` of what it holds (as AggregatorRegistry's metrics do).
    registry.registerMetric(relayed as unknown as Metric);
  }

  return {
    update(snapshot) {
      current = new Map(snapshot.map((m) => [m.name, m]));
      updatedAt = Date.now();
      for (const m of snapshot) if (!registered.has(m.name)) register(m);
      for (const wake of waiters) wake();
    },
    threadEnded() {
      for (const m of current.values()) {
        if (!isCumulative(m.type)) continue;
        const into = carried.get(m.name) ?? new Map<string, RelayedValue>();
        carried.set(m.name, into);
        for (const v of m.values) {
          const key = seriesKey(m.name, v);
          into.set(key, { ...v, value: v.value + (into.get(key)?.value ?? 0) });
        }
      }
      current = new Map();
      updatedAt = 0;
    },
  };
}
