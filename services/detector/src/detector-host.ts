import { DEFAULT_CONSOLE_SOURCE_SYSTEM } from '@phi-audit/console-audit';
import { errorSummary, type BusLogger } from '@phi-audit/bus-kafka';
import {
  ALL_RULES,
  createDetector,
  mergeAlert,
  type Alert,
  type DetectionStore,
  type Detector,
  type DetectorStats,
  type Policy,
} from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import { DetectorError } from './errors.js';
import type { DetectorMetrics } from './metrics.js';
import { RecentEvents } from './recent-events.js';
import { createReferenceCache, type ReferenceCache } from './reference-cache.js';

export const DEFAULT_REFERENCE_POLL_MS = 10_000;
export const DEFAULT_DETECTOR_DEDUPE_WINDOW = 100_000;

export interface DetectorHostOptions {
  store: DetectionStore;
  /** The tenant's policy; called per event, so it must return a cached object (PolicyDir.policyFor). */
  policies: { policyFor(tenant: string): Policy; reload?(): void };
  logger: BusLogger;
  metrics?: DetectorMetrics;
  /** How often reference versions are polled (and policies re-read). Default 10 s; 0 = never. */
  referencePollMs?: number;
  /** Recent event keys remembered to skip a re-sent event. Default 100,000; 0 = off. */
  dedupeWindow?: number;
  /**
   * After this long without an event, a flush also runs the day-level rules (peer deviation) over
   * days that ended by the wall clock (engine flush({ now })), so a quiet stream's last day is not
   * left waiting for the next event. Default 60 s; 0 = never.
   */
  quietAfterMs?: number;
  /** Wall clock, for tests. */
  now?: () => number;
  /**
   * Source systems whose events are not run through the rules. Default: the console's own audit
   * events (`phi-audit-console`): an officer's look-ups are recorded in the ledger (and show in
   * patient access reports) but have no treatment relationship by nature.
   */
  ignoreSources?: readonly string[];
}

/** See DetectorHostOptions.quietAfterMs. */
export const DEFAULT_QUIET_AFTER_MS = 60_000;

/** The rule engine with its reference data, policies and the store its alerts go to. */
export interface DetectorHost {
  /**
   * Runs the events through every rule, in the order given (one log's or partition's order).
   * Reference data of tenants seen for the first time is loaded first; that failing throws
   * DETECTOR_REFERENCE_FAILED before any of the events is processed.
   */
  process(events: readonly AccessEvent[]): Promise<void>;
  /**
   * Writes every alert raised or changed since the last successful flush to the store and
   * resolves when the store confirmed them, with their count. Throws DETECTOR_STORE_FAILED when
   * it did not: the alerts are kept and written by the next flush, so a source must not move its
   * position past events whose flush failed. Flushes run one at a time.
   */
  flush(options?: { endOfInput?: boolean }): Promise<number>;
  /** Starts polling reference versions (and re-reading policies). */
  start(): void;
  /** Stops polling. Does not flush: sources flush before they save their position. */
  close(): Promise<void>;
  stats(): DetectorStats & { pendingAlerts: number; lastEventAt: number; references: Map<string, number> };
}

/**
 * Creates a detector host around createDetector({ rules: ALL_RULES, … }). Alerts are keyed by
 * a deterministic id and the store merges them, so a replay of events already processed writes
 * the same alerts again and changes nothing.
 */
export function createDetectorHost(options: DetectorHostOptions): DetectorHost {
  const { store, policies, logger, metrics } = options;
  const references: ReferenceCache = createReferenceCache({ store, logger, ...(metrics ? { metrics } : {}) });
  const engine: Detector = createDetector({
    rules: ALL_RULES,
    policyFor: (tenant) => policies.policyFor(tenant),
    referenceFor: (tenant) => references.indexFor(tenant),
  });
  const recent = new RecentEvents(options.dedupeWindow ?? DEFAULT_DETECTOR_DEDUPE_WINDOW);
  const seenTenants = new Set<string>();
  let pending = new Map<string, Alert>();
  let lastEventAt = 0;
  const now = options.now ?? Date.now;
  const quietAfterMs = options.quietAfterMs ?? DEFAULT_QUIET_AFTER_MS;
  let lastProcessedAt = now();
  const ignored = new Set(options.ignoreSources ?? [DEFAULT_CONSOLE_SOURCE_SYSTEM]);
  let flushing: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  function hold(alert: Alert): void {
    const previous = pending.get(alert.alertId);
    pending.set(alert.alertId, previous === undefined ? alert : mergeAlert(previous, alert));
  }

  async function writeOnce(endOfInput: boolean): Promise<number> {
    const wall = now();
    const quiet = quietAfterMs > 0 && wall - lastProcessedAt >= quietAfterMs;
    const engineOptions = endOfInput ? { endOfInput } : quiet ? { now: wall } : undefined;
    for (const alert of engine.flush(engineOptions)) hold(alert);
    if (pending.size === 0) return 0;
    const batch = pending;
    pending = new Map();
    const stop = metrics?.flushSeconds.startTimer();
    try {
      await store.upsertAlerts([...batch.values()]);
    } catch (error) {
      // Back into pending, merged with whatever was raised meanwhile: the next flush writes them.
      for (const alert of batch.values()) hold(alert);
      metrics?.flushes.inc({ outcome: 'failed' });
      throw new DetectorError('DETECTOR_STORE_FAILED', `the detection store did not confirm ${batch.size} alert(s)`, {
        cause: error,
      });
    } finally {
      stop?.();
    }
    metrics?.flushes.inc({ outcome: 'ok' });
    for (const alert of batch.values()) metrics?.alertsWritten.inc({ rule: alert.ruleId });
    logger.debug({ alerts: batch.size }, 'alerts flushed');
    return batch.size;
  }

  async function poll(): Promise<void> {
    policies.reload?.();
    await references.refresh();
  }

  return {
    async process(events) {
      const fresh = new Set<string>();
      for (const e of events) if (!seenTenants.has(e.tenant)) fresh.add(e.tenant);
      if (fresh.size > 0) {
        await references.ensure(fresh);
        for (const t of fresh) seenTenants.add(t);
      }
      let processed = 0;
      for (const event of events) {
        if (ignored.has(event.source.system)) continue;
        if (recent.seen(event)) {
          metrics?.duplicatesSkipped.inc();
          continue;
        }
        for (const alert of engine.process(event)) hold(alert);
        processed += 1;
        if (event.occurredAt > lastEventAt) lastEventAt = event.occurredAt;
      }
      if (processed > 0) lastProcessedAt = now();
      metrics?.eventsProcessed.inc(processed);
      if (processed > 0) metrics?.lastEventTime.set(lastEventAt / 1000);
    },
    flush(flushOptions) {
      const endOfInput = flushOptions?.endOfInput === true;
      const run = flushing.then(
        () => writeOnce(endOfInput),
        () => writeOnce(endOfInput),
      );
      flushing = run;
      return run;
    },
    start() {
      const every = options.referencePollMs ?? DEFAULT_REFERENCE_POLL_MS;
      if (timer !== undefined || every <= 0) return;
      timer = setInterval(() => {
        if (polling !== undefined) return;
        polling = poll()
          .catch((error: unknown) => logger.warn(errorSummary(error), 'reference poll failed'))
          .finally(() => (polling = undefined));
      }, every);
      timer.unref();
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await polling;
    },
    stats() {
      return { ...engine.stats(), pendingAlerts: pending.size, lastEventAt, references: references.versions() };
    },
  };
}
