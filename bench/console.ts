/**
 * `npm run bench:console` — the console's read paths at scale (issue 6): p50/p95/p99 latency of
 * the alert list (GET /api/tenants/:t/alerts, default sort), the investigator patient search
 * (GET /api/tenants/:t/accesses?patient=…) and the patient access report
 * (GET /api/tenants/:t/patients/:p/access-report) through the real console HTTP stack
 * (buildConsoleApp + registerConsoleRoutes on a loopback port, a logged-in admin session, the
 * audit trail appending every view to the ledger before answering), on a SQLite log
 * (BENCH_SQLITE_EVENTS, default 1,000,000) and a ClickHouse log (BENCH_CH_EVENTS, default
 * 10,000,000; 0 skips), target p95 ≤ 300 ms each.
 *
 * Baselines measured in the same run with the same parameters, interleaved request by request:
 * the store method the route calls (store p95), and the store's own SQL text sent straight to
 * the database (raw p95: better-sqlite3 / @clickhouse/client). The logs hold real hash-chained
 * records of simulated hospital + clinic traffic, appended through the stores' append(); the
 * ClickHouse database (BENCH_CH_DATABASE, default phi_bench_console) is reused when it already
 * holds the wanted number of events. Prints; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseTarget, createSqliteTarget, type BenchTarget } from './console/bench-targets.js';
import { startBenchConsole, type BenchConsole } from './console/console-server.js';
import { createClickHouseRawQueries, createSqliteRawQueries, type RawQueries } from './console/raw-queries.js';

const SQLITE_EVENTS = Number(process.env.BENCH_SQLITE_EVENTS ?? 1_000_000);
const CH_EVENTS = Number(process.env.BENCH_CH_EVENTS ?? 10_000_000);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 20_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const CH_DATABASE = process.env.BENCH_CH_DATABASE ?? 'phi_bench_console';
const CLICKHOUSE_URL = process.env.CLICKHOUSE_URL;
const TARGET_MS = 300;

/** The route's pages and batches (services/console/src/routes): what the store is asked for. */
const ALERT_PAGE = 50;
const SEARCH_BATCH = 200;
const REPORT_BATCH = 10_000;
const REPORT_PERIOD_MS = 6 * 365 * 24 * 3_600_000;
/** The dashboard's longest period (daily buckets): its access-volume chart is its heaviest read. */
const DASHBOARD_DAYS = 365;
const DAY_MS = 86_400_000;

const fmt = (n: number): string => n.toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(1)} ms`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Operation {
  name: string;
  /** The console request for the i-th sample. */
  http(i: number): string;
  /** The same read through the store method the route calls. */
  store(i: number): Promise<unknown>;
  /** The same read as the store's SQL sent straight to the database. */
  raw(i: number): Promise<unknown>;
}

interface Timings {
  console: number[];
  store: number[];
  raw: number[];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Warm-up, then REQUESTS rounds of console, store and raw for the same sample, interleaved. */
async function measure(op: Operation, consoleApi: BenchConsole): Promise<Timings> {
  const request = async (i: number): Promise<void> => {
    const r = await consoleApi.get(op.http(i));
    if (r.status !== 200) throw new Error(`${op.name}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  };
  for (let i = 0; i < WARMUP; i++) {
    await request(i);
    await op.store(i);
    await op.raw(i);
  }
  const t: Timings = { console: [], store: [], raw: [] };
  for (let i = 0; i < REQUESTS; i++) {
    t.console.push(await time(() => request(i)));
    t.store.push(await time(() => op.store(i)));
    t.raw.push(await time(() => op.raw(i)));
  }
  for (const list of [t.console, t.store, t.raw]) list.sort((a, b) => a - b);
  return t;
}

function operationsOf(target: BenchTarget, raw: RawQueries, patients: readonly string[]): Operation[] {
  const tenant = target.tenant;
  const t = encodeURIComponent(tenant);
  const patient = (i: number): string => patients[i % patients.length] as string;
  // The report's default period, as the route computes it at request time.
  const period = () => {
    const to = Date.now() + 1;
    return { from: to - REPORT_PERIOD_MS, to };
  };
  const review = { tenant, limit: ALERT_PAGE, offset: 0, sort: 'risk' as const };
  // The dashboard's window, as its route computes it: up to the end of today (UTC), DASHBOARD_DAYS back.
  const dashboardWindow = () => {
    const to = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS;
    return { from: to - DASHBOARD_DAYS * DAY_MS, to };
  };
  return [
    {
      name: 'alert list',
      http: () => `/tenants/${t}/alerts`,
      store: () => target.detection.reviewList(review),
      raw: () => raw.alertList(review),
    },
    {
      name: 'patient search',
      http: (i) => `/tenants/${t}/accesses?patient=${encodeURIComponent(patient(i))}`,
      store: (i) => target.ledger.accessesByPatient({ tenant, patientId: patient(i), limit: SEARCH_BATCH }),
      raw: (i) => raw.accessesByPatient({ tenant, patientId: patient(i), limit: SEARCH_BATCH }),
    },
    {
      // The whole dashboard request (volume, alert summary, backlog, cases) against its heaviest
      // SQL, the daily access volume of the year (raw); the store column times the volume alone.
      name: `dashboard (${DASHBOARD_DAYS} days)`,
      http: () => `/tenants/${t}/dashboard?days=${DASHBOARD_DAYS}`,
      store: () => target.ledger.accessVolume({ tenant, ...dashboardWindow(), bucket: 'day' }),
      raw: () => raw.accessVolumeByDay({ tenant, ...dashboardWindow() }),
    },
    {
      name: 'patient access report',
      http: (i) => `/tenants/${t}/patients/${encodeURIComponent(patient(i))}/access-report`,
      store: (i) =>
        target.ledger.accessesByPatient({ tenant, patientId: patient(i), ...period(), limit: REPORT_BATCH }),
      raw: (i) => raw.accessesByPatient({ tenant, patientId: patient(i), ...period(), limit: REPORT_BATCH }),
    },
  ];
}

interface Row {
  op: string;
  store: string;
  events: number;
  t: Timings;
}

async function benchTarget(target: BenchTarget, raw: RawQueries, rows: Row[]): Promise<void> {
  const patients = await raw.samplePatients(target.tenant, REQUESTS + WARMUP);
  const api = await startBenchConsole(target);
  try {
    for (const op of operationsOf(target, raw, patients)) {
      const t = await measure(op, api);
      rows.push({ op: op.name, store: target.kind, events: target.events, t });
      process.stderr.write(`  ${target.kind} ${op.name}: console p95 ${ms(percentile(t.console, 95))}\n`);
    }
  } finally {
    await api.close();
  }
}

function printTable(rows: readonly Row[]): void {
  const header = [
    'operation',
    'store',
    'events',
    'console p50',
    'console p95',
    'console p99',
    'store p95',
    'raw p95',
    'console/raw p95',
    `p95 ≤ ${TARGET_MS} ms`,
  ];
  const body = rows.map((r) => {
    const p95 = percentile(r.t.console, 95);
    const raw95 = percentile(r.t.raw, 95);
    return [
      r.op,
      r.store,
      fmt(r.events),
      ms(percentile(r.t.console, 50)),
      ms(p95),
      ms(percentile(r.t.console, 99)),
      ms(percentile(r.t.store, 95)),
      ms(raw95),
      `${(p95 / raw95).toFixed(2)}×`,
      p95 <= TARGET_MS ? 'met' : 'NOT met',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => (b[c] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ');
  process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n`);
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const lines: string[] = [
    `console read latency: ${fmt(REQUESTS)} requests per operation after ${fmt(WARMUP)} warm-up, ` +
      `one at a time; console = HTTP round trip on loopback incl. session check and ledger audit append; ` +
      `store = the store method the route calls; raw = the store's SQL straight to the database`,
  ];
  if (SQLITE_EVENTS > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'phi-bench-console-sqlite-'));
    try {
      const target = await createSqliteTarget(dir, SQLITE_EVENTS, ALERTS);
      const raw = createSqliteRawQueries({
        ledger: join(dir, 'ledger.sqlite'),
        detection: join(dir, 'detection.sqlite'),
      });
      lines.push(
        `SQLite: ${fmt(target.events)} events (tenants ${target.tenants.join(', ')}; queried ${target.tenant}), ` +
          `${fmt(target.alerts)} alerts, ${target.note}; audit trail appends to the same ledger (embedded mode's path)`,
      );
      try {
        await benchTarget(target, raw, rows);
      } finally {
        await raw.close();
        await target.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (CH_EVENTS > 0 && CLICKHOUSE_URL !== undefined) {
    const target = await createClickHouseTarget(CLICKHOUSE_URL, CH_DATABASE, CH_EVENTS, ALERTS);
    const raw = createClickHouseRawQueries(CLICKHOUSE_URL, CH_DATABASE);
    lines.push(
      `ClickHouse: ${fmt(target.events)} events (tenants ${target.tenants.join(', ')}; queried ${target.tenant}), ` +
        `${fmt(target.alerts)} alerts, ${target.note}; audit trail appends straight to the ClickHouse ` +
        `store (one insert per request; production publishes to Kafka instead)`,
    );
    try {
      await benchTarget(target, raw, rows);
    } finally {
      await raw.close();
      await target.close();
    }
  } else if (CH_EVENTS > 0) {
    lines.push('ClickHouse: skipped (CLICKHOUSE_URL is not set)');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  printTable(rows);
}

await main();
