import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDetectorMetricsRelay, snapshotOf } from './embedded-detector-metrics.js';
import { createDetectorMetrics, type DetectorMetrics } from './metrics.js';

/** A detector thread's metric set, as the worker creates it (lag per ledger log). */
function threadMetrics(lag: { key: string; lag: number }[] = []): DetectorMetrics {
  return createDetectorMetrics({ processMetrics: false, lag: () => Promise.resolve(lag) });
}

/** The main thread's registry with a metric of its own, as the collector app's has. */
function mainRegistry(): Registry {
  const registry = new Registry();
  new Counter({ name: 'phi_audit_collector_events_total', help: 'main-thread metric', registers: [registry] });
  return registry;
}

/** The value of one sample line of the Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('detector metrics relayed from the detector thread', () => {
  it('serves the thread’s counters, histogram and gauges under their own names beside the registry’s metrics', async () => {
    const registry = mainRegistry();
    const relay = createDetectorMetricsRelay({ registry });
    const thread = threadMetrics([{ key: 'phi-audit/embedded/clinic-a', lag: 7 }]);
    thread.eventsProcessed.inc(5);
    thread.alertsWritten.inc({ rule: 'break-the-glass' }, 2);
    thread.flushSeconds.observe(0.02);
    thread.lastEventTime.set(1_700_000_000);
    relay.update(await snapshotOf(thread.registry));

    const text = await registry.metrics();
    expect(text).toContain('# TYPE phi_audit_detector_events_processed_total counter');
    expect(sample(text, 'phi_audit_detector_events_processed_total')).toBe(5);
    expect(sample(text, 'phi_audit_detector_alerts_written_total{rule="break-the-glass"}')).toBe(2);
    expect(sample(text, 'phi_audit_detector_flush_seconds_count')).toBe(1);
    expect(sample(text, 'phi_audit_detector_flush_seconds_bucket{le="0.025"}')).toBe(1);
    expect(sample(text, 'phi_audit_detector_flush_seconds_bucket{le="0.01"}')).toBe(0);
    expect(sample(text, 'phi_audit_detector_lag{source="phi-audit/embedded/clinic-a"}')).toBe(7);
    expect(sample(text, 'phi_audit_detector_last_event_time_seconds')).toBe(1_700_000_000);
    expect(sample(text, 'phi_audit_collector_events_total')).toBe(0);

    // A later snapshot replaces the earlier one (values are the thread's totals, not increments).
    thread.eventsProcessed.inc(3);
    relay.update(await snapshotOf(thread.registry));
    expect(sample(await registry.metrics(), 'phi_audit_detector_events_processed_total')).toBe(8);
  });

  it('keeps counters monotonic when the thread is replaced; gauges come from the new thread only', async () => {
    const registry = mainRegistry();
    const relay = createDetectorMetricsRelay({ registry });
    const first = threadMetrics([{ key: 'phi-audit/embedded/clinic-a', lag: 4 }]);
    first.eventsProcessed.inc(10);
    first.alertsWritten.inc({ rule: 'self-access' });
    first.alertsWritten.inc({ rule: 'family' }, 2);
    first.flushSeconds.observe(0.2);
    relay.update(await snapshotOf(first.registry));
    relay.threadEnded();

    const between = await registry.metrics();
    expect(sample(between, 'phi_audit_detector_events_processed_total')).toBe(10);
    expect(sample(between, 'phi_audit_detector_lag{source="phi-audit/embedded/clinic-a"}')).toBeUndefined();

    const second = threadMetrics([{ key: 'phi-audit/embedded/clinic-b', lag: 1 }]);
    second.eventsProcessed.inc(6);
    second.alertsWritten.inc({ rule: 'family' });
    second.flushSeconds.observe(0.2);
    relay.update(await snapshotOf(second.registry));

    const text = await registry.metrics();
    expect(sample(text, 'phi_audit_detector_events_processed_total')).toBe(16);
    expect(sample(text, 'phi_audit_detector_alerts_written_total{rule="family"}')).toBe(3);
    expect(sample(text, 'phi_audit_detector_alerts_written_total{rule="self-access"}')).toBe(1);
    expect(sample(text, 'phi_audit_detector_flush_seconds_count')).toBe(2);
    expect(sample(text, 'phi_audit_detector_flush_seconds_bucket{le="0.25"}')).toBe(2);
    expect(sample(text, 'phi_audit_detector_lag{source="phi-audit/embedded/clinic-a"}')).toBeUndefined();
    expect(sample(text, 'phi_audit_detector_lag{source="phi-audit/embedded/clinic-b"}')).toBe(1);
  });

  it('asks the thread for a fresh snapshot when scraped, and serves the last one when no thread answers', async () => {
    const registry = mainRegistry();
    const thread = threadMetrics();
    let running = true;
    let requests = 0;
    const relay = createDetectorMetricsRelay({
      registry,
      requestSnapshot: () => {
        if (!running) return false;
        requests += 1;
        // The thread answers asynchronously, as a postMessage round trip does.
        setTimeout(() => void snapshotOf(thread.registry).then((s) => relay.update(s)), 20);
        return true;
      },
    });
    relay.update(await snapshotOf(thread.registry));
    thread.eventsProcessed.inc(4);
    await new Promise((r) => setTimeout(r, 150)); // older than the freshness window

    expect(sample(await registry.metrics(), 'phi_audit_detector_events_processed_total')).toBe(4);
    expect(requests).toBe(1); // one request for the whole scrape, not one per metric

    running = false;
    thread.eventsProcessed.inc(1);
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    expect(sample(await registry.metrics(), 'phi_audit_detector_events_processed_total')).toBe(4);
    expect(Date.now() - started).toBeLessThan(400);
  });
});
