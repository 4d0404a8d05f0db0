import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import type { ConsoleRouteDeps } from '@phi-audit/console';
import { ALERT_DECISIONS, type Alert, type AlertDecision } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import { createClickHouseDetectionStore, createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { createSqliteDetectionStore, createSqliteLedgerStore, embeddedOrigin } from '@phi-audit/store-sqlite';
import { alertFor, createBenchEventSource } from './event-source.js';
import { createLedgerFeed, type LedgerFeed } from './ledger-feed.js';

/**
 * The two stores the console benchmark queries, each holding a log of real chained records and
 * a detection store with alerts (a quarter of them decided), plus the feed the console's audit
 * trail publishes through.
 */
export interface BenchTarget {
  kind: 'SQLite' | 'ClickHouse';
  /** EHR events in the log (the console's own audit events come on top). */
  events: number;
  alerts: number;
  /** How the log came to be (built in …, or reused). */
  note: string;
  /** The queried tenant (the hospital) and the other one. */
  tenant: string;
  tenants: readonly string[];
  ledger: ConsoleRouteDeps['ledger'];
  detection: ConsoleRouteDeps['detection'];
  feed: LedgerFeed;
  close(): Promise<void>;
}

const CH_PARTITIONS = 3;
const BENCH_SOURCE = 'ehr';

/** Cluster mode's log of an event: the partition of its Kafka key (tenant:user). */
function partitionOrigin(event: AccessEvent): string {
  let h = 0x811c9dc5;
  for (const ch of `${event.tenant}:${event.actor.userId}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return `phi-audit/access-events/${(h >>> 0) % CH_PARTITIONS}`;
}

interface Filled {
  alerts: Alert[];
  tenants: readonly string[];
  seconds: number;
}

/** Generates `count` events into `feed` and picks about `alerts` of them as alert evidence. */
async function fill(feed: LedgerFeed, count: number, alerts: number, label: string): Promise<Filled> {
  const source = createBenchEventSource();
  const every = Math.max(1, Math.floor(count / Math.max(1, alerts)));
  const picked: Alert[] = [];
  const t0 = performance.now();
  let lastReport = t0;
  for (let i = 0; i < count; i++) {
    const event = source.next();
    await feed.add(event);
    if (i % every === every - 1) picked.push(alertFor(event, picked.length));
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      const s = (lastReport - t0) / 1000;
      process.stderr.write(`  ${label}: ${(i + 1).toLocaleString('en-US')} events in ${s.toFixed(0)} s\n`);
    }
  }
  await feed.flush();
  return { alerts: picked, tenants: source.tenants, seconds: (performance.now() - t0) / 1000 };
}

/** Stores the alerts, then decides every fourth one (appropriate / false positive / escalated). */
async function storeAlerts(
  detection: ConsoleRouteDeps['detection'] & { upsertAlerts(a: readonly Alert[]): Promise<void> },
  alerts: readonly Alert[],
): Promise<void> {
  for (let i = 0; i < alerts.length; i += 5_000) await detection.upsertAlerts(alerts.slice(i, i + 5_000));
  const decisions: AlertDecision[] = alerts
    .filter((_, i) => i % 4 === 0)
    .map((a, i) => ({
      tenant: a.tenant,
      alertId: a.alertId,
      decision: ALERT_DECISIONS[i % ALERT_DECISIONS.length] as AlertDecision['decision'],
      reason: 'reviewed in the benchmark',
      decidedBy: 'po.bench',
      decidedAt: a.lastEventAt + 86_400_000,
    }));
  for (let i = 0; i < decisions.length; i += 1_000) await detection.decide(decisions.slice(i, i + 1_000));
}

const rate = (n: number, s: number): string => `${Math.round(n / s).toLocaleString('en-US')} events/s`;

/** A fresh SQLite ledger (embedded layout: one log per tenant, seq = global source offset) in `dir`. */
export async function createSqliteTarget(dir: string, events: number, alerts: number): Promise<BenchTarget> {
  const ledger = createSqliteLedgerStore({ file: join(dir, 'ledger.sqlite') });
  const detection = createSqliteDetectionStore({ file: join(dir, 'detection.sqlite') });
  let seq = ledger.lastSourceOffset();
  const feed = createLedgerFeed({
    store: ledger,
    originOf: (e) => embeddedOrigin(e.tenant),
    nextOffset: () => ++seq,
    batch: 10_000,
  });
  const filled = await fill(feed, events, alerts, 'SQLite');
  await storeAlerts(detection, filled.alerts);
  return {
    kind: 'SQLite',
    events,
    alerts: filled.alerts.length,
    note: `built through append() in ${filled.seconds.toFixed(0)} s (${rate(events, filled.seconds)})`,
    tenant: filled.tenants[0] as string,
    tenants: filled.tenants,
    ledger,
    detection,
    feed,
    close: async () => {
      await detection.close();
      await ledger.close();
    },
  };
}

/**
 * The ClickHouse ledger in `database`: reused when it holds exactly `events` EHR events and alerts
 * (a previous run's; the console's audit events are not counted), else dropped and rebuilt.
 */
export async function createClickHouseTarget(
  url: string,
  database: string,
  events: number,
  alerts: number,
): Promise<BenchTarget> {
  const admin = createClient({ url, database: 'system' });
  const scalar = async (query: string): Promise<number> => {
    const rs = await admin.query({ query, format: 'JSONEachRow' });
    const [row] = await rs.json<{ n: string }>();
    return Number(row?.n ?? 0);
  };
  const db = `\`${database}\``;
  let reuse = false;
  let storedAlerts = 0;
  let tenants: string[] = [];
  if ((await scalar(`SELECT toString(count()) AS n FROM system.tables WHERE database = '${database}'`)) > 0) {
    const stored = await scalar(
      `SELECT toString(count()) AS n FROM ${db}.access_log WHERE source_system = '${BENCH_SOURCE}'`,
    );
    storedAlerts = await scalar(`SELECT toString(uniqExact(alert_id)) AS n FROM ${db}.alerts`);
    reuse = stored === events && storedAlerts > 0;
    if (reuse) {
      const rs = await admin.query({
        query: `SELECT tenant, count() AS c FROM ${db}.access_log GROUP BY tenant ORDER BY c DESC`,
        format: 'JSONEachRow',
      });
      tenants = (await rs.json<{ tenant: string }>()).map((r) => r.tenant);
    }
  }
  if (!reuse) await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await admin.close();

  const ledger = createClickHouseLedgerStore({ url, database, requestTimeoutMs: 300_000 });
  await ledger.migrate();
  const detection = createClickHouseDetectionStore({ url, database, requestTimeoutMs: 300_000 });
  const feed = createLedgerFeed({
    store: ledger,
    originOf: partitionOrigin,
    nextOffset: (_origin, last) => last + 1,
    batch: 25_000,
  });
  let note: string;
  let alertCount: number;
  if (reuse) {
    note = `reused database ${database} (already held ${events.toLocaleString('en-US')} events)`;
    alertCount = storedAlerts;
  } else {
    const filled = await fill(feed, events, alerts, 'ClickHouse');
    await storeAlerts(detection, filled.alerts);
    tenants = [...filled.tenants];
    alertCount = filled.alerts.length;
    note = `built in database ${database} through append() in ${filled.seconds.toFixed(0)} s (${rate(events, filled.seconds)})`;
  }
  return {
    kind: 'ClickHouse',
    events,
    alerts: alertCount,
    note,
    tenant: tenants[0] as string,
    tenants,
    ledger,
    detection,
    feed,
    close: async () => {
      await detection.close();
      await ledger.close();
    },
  };
}
