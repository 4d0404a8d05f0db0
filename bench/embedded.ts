/**
 * `npm run bench:embedded` — the embedded (`npm start`) ledger on SQLite:
 *   1. cold start: spawn `phi-audit start` on a fresh data directory → /readyz 200 (target ≤ 2 s);
 *   2. durable throughput with batches of 500 events (2xx only after the SQLite commit), next to
 *      the ceiling measured in the same run: a raw better-sqlite3 insert of the identical rows in
 *      one transaction into the same schema with the same pragmas (target ≥ 50%);
 *   3. single-event requests from 32 concurrent clients: group commit (target ≥ 3,000 events/s);
 *   4. what Merkle tiles and signed checkpoints cost: 2. and 3. with checkpointing on (as shipped)
 *      and off (an internal startEmbedded option, not reachable from the environment), in
 *      alternating rounds, printed as the ratio on/off (target: cost < 10%).
 * Traffic comes from the seeded hospital simulator (@phi-audit/simulator). Prints; asserts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { createIngestKey } from '@phi-audit/collector';
import { createFacility, createTrafficGenerator } from '@phi-audit/simulator';
import { keysFileIn, ledgerFileIn } from '@phi-audit/store-sqlite';
import { spawn } from 'node:child_process';
import { REPO_ROOT, freePort, startCli, waitFor, type CliProcess } from '../test/harness/processes.js';

const BATCHED_EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const SINGLE_CLIENTS = 32;
const SINGLE_SECONDS = Number(process.env.BENCH_SINGLE_SECONDS ?? 10);
const TENANT = 'hospital-a';
/** On/off rounds of the checkpointing comparison (alternating, so drift in machine load hits both). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
type Checkpointing = 'on' | 'off';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Posted bodies from the simulator, pre-serialised so the generator does not compete for CPU. */
function makeBodies(total: number, batch: number, runId: string): { count: number; body: string }[] {
  const facility = createFacility({ profile: 'hospital', seed: 11 });
  const traffic = createTrafficGenerator({ facility, start: Date.now() - 20 * 86_400_000, runId });
  const bodies: { count: number; body: string }[] = [];
  for (let sent = 0; sent < total; sent += batch) {
    const n = Math.min(batch, total - sent);
    bodies.push({ count: n, body: JSON.stringify(Array.from({ length: n }, () => traffic.next().body)) });
  }
  return bodies;
}

async function startEmbedded(dataDir: string): Promise<{ process: CliProcess; url: string; readyMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = startCli(['start'], { PORT: String(port), PHI_AUDIT_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  await waitFor('readyz', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
  return { process: child, url, readyMs: performance.now() - started };
}

/**
 * What `phi-audit start` runs (startEmbedded from the built @phi-audit/embedded), in its own
 * process as the CLI does, with the internal `checkpointing` option: the only way to turn
 * tiles and checkpoints off, so both modes are started the same way.
 */
const LAUNCHER = `
import { createEmbeddedLogger, parseEmbeddedConfig, startEmbedded } from ${JSON.stringify(pathToFileURL(`${REPO_ROOT}services/embedded/dist/index.js`).href)};
const config = parseEmbeddedConfig(process.env);
const running = await startEmbedded({
  config,
  logger: createEmbeddedLogger(config.logLevel),
  checkpointing: process.env.BENCH_CHECKPOINTING !== 'off',
});
process.once('SIGTERM', () => running.close().then(() => process.exit(0), () => process.exit(1)));
`;

async function startMode(dataDir: string, mode: Checkpointing): Promise<{ stop: () => Promise<void>; url: string }> {
  // A file, not `node -e`: the writer thread inherits execArgv, and --input-type breaks a worker.
  const launcher = join(dataDir, 'bench-launcher.mjs');
  writeFileSync(launcher, LAUNCHER);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [launcher], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      PHI_AUDIT_DATA_DIR: dataDir,
      // The ledger's own cost; detection (a worker thread of its own) is measured by bench:detection.
      PHI_AUDIT_DETECTION: process.env.BENCH_DETECTION ?? 'off',
      LOG_LEVEL: 'warn',
      BENCH_CHECKPOINTING: mode,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor('readyz', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The load generator: node:http with keep-alive rather than fetch, whose per-request CPU (about
 * as much as the server's on this path) would otherwise take the server's cores away from it.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

async function post(url: string, key: string, body: string): Promise<number> {
  const bytes = Buffer.from(body);
  return new Promise<number>((resolve, reject) => {
    const req = request(
      `${url}/v1/events`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': String(bytes.length),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

/** Batches of 500 from 4 concurrent clients; events/s. */
async function runBatched(url: string, key: string, bodies: { count: number; body: string }[]): Promise<number> {
  let next = 0;
  let accepted = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < bodies.length) {
        const b = bodies[next++]!;
        const status = await post(url, key, b.body);
        if (status !== 202) throw new Error(`batch answered ${status}`);
        accepted += b.count;
      }
    }),
  );
  return accepted / ((performance.now() - t0) / 1000);
}

/** Single-event requests from SINGLE_CLIENTS concurrent clients for SINGLE_SECONDS; events/s and commits. */
async function runSingles(url: string, key: string): Promise<{ rate: number; transactions: string | undefined }> {
  const singles = makeBodies(SINGLE_CLIENTS * SINGLE_SECONDS * 1_000, 1, `single${Date.now()}`);
  let taken = 0;
  let singleAccepted = 0;
  const deadline = performance.now() + SINGLE_SECONDS * 1000;
  const t2 = performance.now();
  await Promise.all(
    Array.from({ length: SINGLE_CLIENTS }, async () => {
      while (performance.now() < deadline && taken < singles.length) {
        const status = await post(url, key, singles[taken++]!.body);
        if (status !== 202) throw new Error(`single event answered ${status}`);
        singleAccepted += 1;
      }
    }),
  );
  const rate = singleAccepted / ((performance.now() - t2) / 1000);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const transactions = /phi_audit_embedded_transactions_total\{outcome="committed"\} (\d+)/.exec(metrics)?.[1];
  return { rate, transactions };
}

/**
 * The cost of Merkle tiles and checkpoints: ROUNDS rounds of (batched, then singles on the same
 * ledger), alternating which mode goes first, each on a fresh data directory.
 */
async function compareCheckpointing(fresh: () => string): Promise<string[]> {
  const rates: Record<Checkpointing, { batched: number[]; singles: number[] }> = {
    on: { batched: [], singles: [] },
    off: { batched: [], singles: [] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Checkpointing[] = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const mode of order) {
      const dataDir = fresh();
      const { key } = await createIngestKey({ file: keysFileIn(dataDir), tenant: TENANT, source: 'ehr' });
      const node = await startMode(dataDir, mode);
      rates[mode].batched.push(await runBatched(node.url, key, makeBodies(BATCHED_EVENTS, 500, `cmp${mode}${round}`)));
      rates[mode].singles.push((await runSingles(node.url, key)).rate);
      await node.stop();
    }
  }
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const line = (what: string, on: number[], off: number[]): string => {
    const ratio = mean(on) / mean(off);
    return (
      `  ${what}: on ${mean(on).toFixed(0)} events/s, off ${mean(off).toFixed(0)} events/s → on/off ${(ratio * 100).toFixed(1)}%` +
      ` (cost ${((1 - ratio) * 100).toFixed(1)}%; rounds on ${on.map((r) => r.toFixed(0)).join(', ')} / off ${off.map((r) => r.toFixed(0)).join(', ')})`
    );
  };
  return [
    `Merkle tiles + signed checkpoints, on vs off (${ROUNDS} alternating rounds, fresh ledgers; target cost < 10%):`,
    line(`batches of 500 (4 clients, ${BATCHED_EVENTS} events)`, rates.on.batched, rates.off.batched),
    line(`single-event requests (${SINGLE_CLIENTS} clients, ${SINGLE_SECONDS} s)`, rates.on.singles, rates.off.singles),
  ];
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const dirs: string[] = [];
  const fresh = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'phi-bench-embedded-'));
    dirs.push(dir);
    return dir;
  };
  try {
    // 1. Cold start, three fresh data directories.
    const coldStarts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startEmbedded(fresh());
      coldStarts.push(s.readyMs);
      await s.process.stop();
    }
    lines.push(
      `cold start (spawn → /readyz 200, fresh data dir): median ${median(coldStarts).toFixed(0)} ms of ${coldStarts.map((m) => m.toFixed(0)).join(', ')}  (target ≤ 2000 ms)`,
    );

    // 2. Batches of 500, 4 concurrent clients.
    const dataDir = fresh();
    const { key } = await createIngestKey({ file: keysFileIn(dataDir), tenant: TENANT, source: 'ehr' });
    let node = await startEmbedded(dataDir);
    await new Promise((r) => setTimeout(r, 1_100)); // the key file is re-read at most once a second
    const batchedRate = await runBatched(node.url, key, makeBodies(BATCHED_EVENTS, 500, `batch${Date.now()}`));
    await node.process.stop();

    // Ceiling: the identical rows, inserted raw in one transaction into a copy of the schema.
    const source = new Database(ledgerFileIn(dataDir), { readonly: true });
    const rows = source.prepare('SELECT * FROM access_log ORDER BY seq').all() as Record<string, unknown>[];
    const ddl = source
      .prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'access_log' AND sql IS NOT NULL ORDER BY type DESC")
      .all() as { sql: string }[];
    source.close();
    const raw = new Database(join(fresh(), 'raw.sqlite'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    for (const { sql } of ddl) raw.exec(sql);
    const columns = Object.keys(rows[0] ?? {});
    const insert = raw.prepare(
      `INSERT INTO access_log (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    const t1 = performance.now();
    raw.transaction((all: Record<string, unknown>[]) => {
      for (const row of all) insert.run(row);
    })(rows);
    const rawRate = rows.length / ((performance.now() - t1) / 1000);
    raw.close();
    lines.push(
      `durable ingest, batches of 500 (4 clients, HTTP → validated → committed): ${batchedRate.toFixed(0)} events/s`,
      `  ceiling raw better-sqlite3 insert of the same ${rows.length} rows in one transaction: ${rawRate.toFixed(0)} rows/s`,
      `  ratio: ${((batchedRate / rawRate) * 100).toFixed(1)}%  (target ≥ 50%)`,
    );

    // 3. Single-event requests from 32 concurrent clients for a fixed time.
    node = await startEmbedded(dataDir);
    const { rate: singleRate, transactions } = await runSingles(node.url, key);
    await node.process.stop();
    lines.push(
      `single-event requests, ${SINGLE_CLIENTS} concurrent clients for ${SINGLE_SECONDS} s: ${singleRate.toFixed(0)} events/s` +
        (transactions ? ` in ${transactions} commits` : '') +
        '  (target ≥ 3000 events/s)',
    );

    // 4. What tiles and checkpoints cost.
    lines.push(...(await compareCheckpointing(fresh)));
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  agent.destroy();
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
