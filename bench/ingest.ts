/**
 * `npm run bench:ingest` — end-to-end ingest throughput and latency of the cluster pipeline
 * (HTTP → collector → Kafka → ledger-writer → queryable ClickHouse rows), printed next to two
 * ceilings measured in the same run on the same machine:
 *   1. raw ClickHouse insert of the identical rows (JSONEachRow, same batch size);
 *   2. raw kafkajs produce → consume of the identical message values.
 * Targets (issue 2): throughput ≥ 40% of the lower ceiling; ingest-to-queryable p99 ≤ 2 s at
 * 5,000 events/s; ledger-writer RSS < 300 MB at any consumer lag.
 * Not a test: it prints numbers, it asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { startClusterStack } from '../test/harness/cluster-stack.js';
import { runLoad, type LoadBatch } from '../test/harness/load.js';
import { countRows } from '../test/harness/oracle.js';
import { runCli, waitFor } from '../test/harness/processes.js';
import { createSyntheticEvents, type PostedEvent } from '../test/harness/synthetic-events.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const PACED_RATE = 5_000;
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 20);
const LAG_EVENTS = Number(process.env.BENCH_LAG_EVENTS ?? 200_000);
const TENANTS = ['clinic-a', 'clinic-b', 'hospital-c'];

async function ensureServices(): Promise<void> {
  if (process.env.KAFKA_BROKERS && process.env.CLICKHOUSE_URL) return;
  const up = await runCli(['services', 'up']);
  if (up.code !== 0) throw new Error(`phi-audit services up failed:\n${up.output}`);
  for (const line of up.output.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]!] = m[2]!;
  }
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 when unreadable. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The local Kafka and ClickHouse server pids, when `phi-audit services` runs them (for CPU accounting). */
async function servicePids(): Promise<Record<string, number>> {
  const status = await runCli(['services', 'status']);
  const pids: Record<string, number> = {};
  for (const m of status.output.matchAll(/^(kafka|clickhouse)\s+running.*? pid (\d+)/gm)) pids[m[1]!] = Number(m[2]);
  return pids;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Requests with their bodies already serialised: the load generator shares the machine, so it does as little as it can while timed. */
function makeBatches(seed: number, total: number, batch: number): LoadBatch[] {
  const gen = createSyntheticEvents({ seed, runId: `bench${seed}-${Date.now()}`, tenants: TENANTS });
  return Array.from({ length: Math.ceil(total / batch) }, (_, i) => {
    const tenant = TENANTS[i % TENANTS.length]!;
    const events: PostedEvent[] = Array.from({ length: Math.min(batch, total - i * batch) }, () => gen.next(tenant));
    return { tenant, events, body: JSON.stringify(events) };
  });
}

/**
 * Watches which events become queryable, and when: each poll reads only the rows appended
 * since the previous poll (per log, by index), so every event gets its own first-seen time.
 */
function watchVisibility(clickhouseUrl: string, database: string): { stop(): Promise<Map<string, number>> } {
  const client = createClient({ url: clickhouseUrl, database });
  const seen = new Map<string, number>();
  const next = new Map<string, number>();
  let polling = true;
  const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const loop = (async () => {
    while (polling) {
      const known = [...next];
      const where = [
        ...known.map(([log, idx]) => `(log = ${quote(log)} AND idx >= ${idx})`),
        known.length === 0 ? '1' : `log NOT IN (${known.map(([log]) => quote(log)).join(', ')})`,
      ].join(' OR ');
      const rows = await (
        await client.query({
          query: `SELECT log, toString(idx) AS i, event_id FROM access_log WHERE ${where}`,
          format: 'JSONEachRow',
        })
      ).json<{ log: string; i: string; event_id: string }>();
      const at = performance.now();
      for (const r of rows) {
        if (!seen.has(r.event_id)) seen.set(r.event_id, at);
        next.set(r.log, Math.max(next.get(r.log) ?? 0, Number(r.i) + 1));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      polling = false;
      await loop;
      await client.close();
      return seen;
    },
  };
}

async function main(): Promise<void> {
  await ensureServices();
  // BENCH_CPU_PROF_DIR=/tmp/prof: CPU profiles of the spawned collector and ledger-writer
  // (preloaded through NODE_OPTIONS, which only the children see from here on).
  // BENCH_CHILD_NODE_OPTIONS: extra Node options for the spawned services only (e.g. --trace-gc).
  const childOptions = process.env.BENCH_CHILD_NODE_OPTIONS;
  if (childOptions) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${childOptions}`.trim();
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (profileDir) {
    const preload = new URL('./cpu-profile.mjs', import.meta.url).href;
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
  }
  const stack = await startClusterStack({ name: 'bench', tenants: TENANTS });
  if (profileDir) {
    process.stdout.write(`collector pid ${stack.collector.child.pid}, ledger-writer pid ${stack.writer.child.pid}\n`);
  }
  const results: string[] = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(stack.writer.child.pid));
  }, 100);
  try {
    // Warm-up: topic, JIT, connections.
    await runLoad({ url: stack.collectorUrl, keys: stack.keys, batches: makeBatches(1, 5_000, BATCH), concurrency: 4 });
    await waitFor('warm-up', async () => (await countRows(stack.clickhouseUrl, stack.database)) >= 5_000, 120_000);

    // 1. Sustained end-to-end throughput: post as fast as the pipeline accepts, until queryable.
    const throughputBatches = makeBatches(2, EVENTS, BATCH);
    const base = await countRows(stack.clickhouseUrl, stack.database);
    const pids: Record<string, number | undefined> = {
      collector: stack.collector.child.pid,
      'ledger-writer': stack.writer.child.pid,
      ...(await servicePids()),
    };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const benchCpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const load = await runLoad({
      url: stack.collectorUrl,
      keys: stack.keys,
      batches: throughputBatches,
      concurrency: 8,
    });
    const ackSeconds = (performance.now() - t0) / 1000;
    await waitFor(
      'throughput run stored',
      async () => (await countRows(stack.clickhouseUrl, stack.database)) >= base + load.acknowledged.size,
      600_000,
    );
    const pipelineSeconds = (performance.now() - t0) / 1000;
    const pipelineRate = load.acknowledged.size / pipelineSeconds;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpuUsed = Object.entries(pids)
      .map(([name, pid]) => `${name} ${(cpuSeconds(pid) - cpuBefore[name]!).toFixed(1)}`)
      .concat(`load generator ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)}`)
      .join(', ');
    if (load.failedRequests > 0) throw new Error(`throughput run: ${load.failedRequests} requests failed`);

    // 2. Ceiling: raw ClickHouse insert of the identical rows, same batch size, into a copy table.
    const admin = createClient({ url: stack.clickhouseUrl, database: stack.database });
    await admin.command({ query: 'CREATE TABLE bench_copy AS access_log' });
    const rows = await (
      await admin.query({ query: `SELECT * FROM access_log ORDER BY log, idx LIMIT ${EVENTS}`, format: 'JSONEachRow' })
    ).json<Record<string, unknown>>();
    const t1 = performance.now();
    const writers = 4;
    let next = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < rows.length) {
          const slice = rows.slice(next, (next += BATCH));
          await admin.insert({ table: 'bench_copy', values: slice, format: 'JSONEachRow' });
        }
      }),
    );
    const chRate = rows.length / ((performance.now() - t1) / 1000);

    // 3. Ceiling: raw kafkajs produce (acks=all, idempotent) → consume of the same values.
    const values = rows.map((r) => ({ key: `${String(r.tenant)}:${String(r.user_id)}`, value: String(r.event_json) }));
    const kafka = new Kafka({
      clientId: 'bench-raw',
      brokers: process.env.KAFKA_BROKERS!.split(','),
      logLevel: logLevel.NOTHING,
    });
    const rawTopic = `${stack.topic}.raw`;
    const kadmin = kafka.admin();
    await kadmin.connect();
    await kadmin.createTopics({
      topics: [{ topic: rawTopic, numPartitions: 6, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await kadmin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `${rawTopic}.g` });
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topic: rawTopic, fromBeginning: true });
    let consumed = 0;
    const allConsumed = new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          consumed += batch.messages.length;
          if (consumed >= values.length) resolve();
        },
      });
    });
    const t2 = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < values.length) {
          const slice = values.slice(sent, (sent += BATCH));
          await producer.send({ topic: rawTopic, acks: -1, messages: slice });
        }
      }),
    );
    await allConsumed;
    const kafkaRate = values.length / ((performance.now() - t2) / 1000);
    await Promise.all([producer.disconnect(), consumer.disconnect()]);

    // 4. Latency at a paced 5,000 events/s: per event, from its request's 2xx to the first poll
    //    that returned its row (polls read only new rows, so each event is timed on its own).
    const pacedBatch = 100;
    const pacedBatches = makeBatches(3, PACED_RATE * PACED_SECONDS, pacedBatch);
    const watcher = watchVisibility(stack.clickhouseUrl, stack.database);
    const ackedAt = new Map<string, number>();
    const start = performance.now();
    let pacedFailures = 0;
    await Promise.all(
      pacedBatches.map(async (b, i) => {
        const due = start + (i * pacedBatch * 1000) / PACED_RATE;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
        const r = await runLoad({ url: stack.collectorUrl, keys: stack.keys, batches: [b], concurrency: 1 });
        const at = performance.now();
        pacedFailures += r.failedRequests;
        for (const id of r.acknowledged) ackedAt.set(id, at);
      }),
    );
    const pacedSendSeconds = (performance.now() - start) / 1000;
    let visibleAt = new Map<string, number>();
    try {
      await waitFor(
        'paced run stored',
        async () => {
          const rows = await countRows(stack.clickhouseUrl, stack.database);
          return rows >= base + load.acknowledged.size + ackedAt.size;
        },
        120_000,
      );
      // One more poll interval so the watcher has read the last rows.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      visibleAt = await watcher.stop();
    }
    const latencies = [...ackedAt]
      .map(([id, at]) => (visibleAt.get(id) ?? NaN) - at)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const unseen = ackedAt.size - latencies.length;

    // 5. Writer memory at a large consumer lag: stop the writer, queue LAG_EVENTS, let it catch up.
    process.kill(stack.writer.child.pid!, 'SIGSTOP');
    const lagBase = await countRows(stack.clickhouseUrl, stack.database);
    const lagLoad = await runLoad({
      url: stack.collectorUrl,
      keys: stack.keys,
      batches: makeBatches(4, LAG_EVENTS, BATCH),
      concurrency: 8,
    });
    peakRss = 0;
    process.kill(stack.writer.child.pid!, 'SIGCONT');
    const t3 = performance.now();
    await waitFor(
      'lag drained',
      async () => (await countRows(stack.clickhouseUrl, stack.database)) >= lagBase + lagLoad.acknowledged.size,
      600_000,
    );
    const catchUpRate = lagLoad.acknowledged.size / ((performance.now() - t3) / 1000);
    await admin.close();

    const ceiling = Math.min(chRate, kafkaRate);
    results.push(
      `ingest end-to-end: ${load.acknowledged.size} events in ${pipelineSeconds.toFixed(1)} s = ${pipelineRate.toFixed(0)} events/s`,
      `  (all acknowledged after ${ackSeconds.toFixed(1)} s; CPU seconds during the run: ${cpuUsed})`,
      `  ceiling raw ClickHouse insert (same rows, batch ${BATCH}): ${chRate.toFixed(0)} rows/s`,
      `  ceiling raw kafkajs produce→consume (same values): ${kafkaRate.toFixed(0)} msgs/s`,
      `  ratio vs lower ceiling: ${((pipelineRate / ceiling) * 100).toFixed(1)}%  (target ≥ 40%)`,
      `latency 2xx→queryable at ${PACED_RATE} events/s for ${PACED_SECONDS} s: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${percentile(latencies, 100).toFixed(0)} ms  (target p99 ≤ 2000 ms)`,
      `  (${latencies.length} events timed individually, ${unseen} not seen, ${pacedFailures} failed requests; sending took ${pacedSendSeconds.toFixed(1)} s)`,
      `writer catching up a lag of ${lagLoad.acknowledged.size} events: ${catchUpRate.toFixed(0)} events/s, peak RSS ${peakRss.toFixed(0)} MB  (target < 300 MB)`,
    );
    const verify = await runCli(
      ['verify', '--clickhouse', stack.clickhouseUrl, '--database', stack.database],
      stack.env,
    );
    results.push(`verify after the benchmark: exit ${verify.code}`);
  } finally {
    clearInterval(rssTimer);
    await stack.close();
  }
  process.stdout.write(`${results.join('\n')}\n`);
}

await main();
