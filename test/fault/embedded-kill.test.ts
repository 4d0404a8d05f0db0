import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestKey } from '@phi-audit/collector';
import { embeddedOrigin, keysFileIn, ledgerFileIn } from '@phi-audit/store-sqlite';
import { runLoad } from '../harness/load.js';
import { checkLaggingTiles, repairTiles, type LaggingTilesReport } from '../harness/embedded-tiles.js';
import { checkSqliteLedger, checkSqliteProofs, type SqliteProofReport } from '../harness/sqlite-oracle.js';
import { freePort, runCli, startCli, waitFor, type CliProcess } from '../harness/processes.js';
import { createSyntheticEvents, seededRandom, type PostedEvent } from '../harness/synthetic-events.js';

// TESTING.md fault matrix, "embedded process killed during load": kill -9 the `npm start`
// process five times during a sustained load, restarting it at once on the same data directory.
const TOTAL = 60_000;
const KILLS = 5;
const TENANTS = ['clinic-a', 'clinic-b'] as const;

describe('fault: embedded process killed with SIGKILL during load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phi-embedded-kill-'));
  let current: CliProcess | undefined;
  afterAll(async () => {
    await current?.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing, duplicates nothing, invents nothing, and the chains verify', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), PHI_AUDIT_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const keys = new Map<string, string>();
    for (const tenant of TENANTS) {
      keys.set(tenant, (await createIngestKey({ file: keysFileIn(dataDir), tenant, source: 'ehr' })).key);
    }
    const ready = async (): Promise<boolean> => (await fetch(`${url}/readyz`)).status === 200;
    current = startCli(['start'], env);
    await waitFor('embedded ready', ready, 30_000);

    const generator = createSyntheticEvents({ seed: 11, runId: `ekill${Date.now()}`, tenants: TENANTS });
    const random = seededRandom(5);
    function* batches(): Generator<{ tenant: string; events: PostedEvent[] }> {
      for (let sent = 0, i = 0; sent < TOTAL; i++) {
        const tenant = TENANTS[i % TENANTS.length]!;
        const size = Math.min(TOTAL - sent, 1 + Math.floor(random() * 200));
        sent += size;
        yield { tenant, events: Array.from({ length: size }, () => generator.next(tenant)) };
      }
    }

    // Paced at 3,000 events/s the load lasts ~20 s; a kill every 3 s from 2 s on lands all five mid-load.
    let kills = 0;
    let loading = true;
    const killLog: string[] = [];
    // The Merkle state as each kill left it (full tiles in the records' transaction, the partial
    // tile held back until a checkpoint needs it, checkpoints after): the files are copied at
    // once and checked after the load, so the restart is not delayed.
    const snapshots: string[] = [];
    const snapshotAfterKill = (n: number): void => {
      const snapshot = join(dataDir, `snapshot-${n}`);
      mkdirSync(snapshot);
      const ledger = ledgerFileIn(dataDir);
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(ledger + suffix)) cpSync(ledger + suffix, ledgerFileIn(snapshot) + suffix);
      }
      cpSync(join(dataDir, 'checkpoint-signing.key.pub'), join(snapshot, 'checkpoint-signing.key.pub'));
      snapshots.push(snapshot);
    };
    const started = Date.now();
    let killing: Promise<void> = Promise.resolve();
    const killer = setInterval(() => {
      if (kills >= KILLS || Date.now() - started < 2_000 + kills * 3_000) return;
      kills += 1;
      const n = kills;
      const victim = current;
      killing = killing.then(async () => {
        await victim?.kill9();
        snapshotAfterKill(n);
        killLog.push(
          `kill ${n} at ${((Date.now() - started) / 1000).toFixed(1)} s, load ${loading ? 'running' : 'finished'}`,
        );
        current = startCli(['start'], env);
      });
    }, 100);

    const load = await runLoad({ url, keys, batches: batches(), concurrency: 8, eventsPerSecond: 3_000 });
    loading = false;
    clearInterval(killer);
    await killing;
    console.info(
      `${killLog.join('\n')}\nacknowledged ${load.acknowledged.size} of ${load.attempted.size}; statuses ${JSON.stringify([...load.statuses])}`,
    );
    expect(killLog.filter((line) => line.endsWith('load running'))).toHaveLength(KILLS);
    // The statuses seen while a process was down or starting: refused or cut connections (0), nothing else.
    for (const status of load.statuses.keys()) expect([0, 202]).toContain(status);
    expect(load.acknowledged.size).toBeGreaterThan(TOTAL / 2);

    await waitFor('embedded ready after the last restart', ready, 30_000);
    const last = current;
    current = undefined;
    expect(await last?.stop()).toBe(0);

    const report = await checkSqliteLedger(dataDir, load);
    expect(report.lost).toEqual([]);
    expect(report.invented).toEqual([]);
    expect(report.duplicatedLogs).toEqual([]);
    expect(report.failures).toEqual([]);
    expect(report.rows).toBeGreaterThanOrEqual(load.acknowledged.size);

    const verify = await runCli(['verify', '--data', dataDir]);
    expect(verify.code, verify.output).toBe(0);

    // After every kill the stored tiles lagged the committed records by less than a tile but
    // covered (and proved) every signed checkpoint; the repair a restart does (loadLogTiles)
    // brought them to exactly the records, and every checkpoint matched them. The restarts
    // continued both, and the clean stop signed each log's head.
    const lagging: LaggingTilesReport[] = [];
    const atKills: SqliteProofReport[] = [];
    for (const snapshot of snapshots) {
      lagging.push(await checkLaggingTiles(snapshot));
      const heads = await repairTiles(snapshot);
      expect([...heads.keys()].sort()).toEqual(TENANTS.map((t) => embeddedOrigin(t)).sort());
      atKills.push(await checkSqliteProofs(snapshot));
    }
    expect(atKills).toHaveLength(KILLS);
    for (const [i, atKill] of lagging.entries()) expect(atKill.problems, `tiles after kill ${i + 1}`).toEqual([]);
    for (const [i, atKill] of atKills.entries()) expect(atKill.problems, `after kill ${i + 1}, repaired`).toEqual([]);
    console.info(
      `tiles at the kills (size/coverage/checkpoint): ${lagging
        .map((r) => r.logs.map((l) => `${l.size}/${l.coverage}/${l.checkpointSize}`).join(' '))
        .join('; ')}`,
    );
    const proofs = await checkSqliteProofs(dataDir, { complete: true });
    expect(proofs.problems).toEqual([]);
    expect(proofs.logs.map((l) => l.origin).sort()).toEqual(TENANTS.map((t) => embeddedOrigin(t)).sort());
    for (const log of proofs.logs) {
      expect(log.tileCoverage).toBe(log.size);
      const before = atKills.at(-1)?.logs.find((l) => l.origin === log.origin);
      // The checkpoints signed before the last kill are still there, a prefix of the final list.
      if (before !== undefined)
        expect(log.checkpointSizes.slice(0, before.checkpointSizes.length)).toEqual(before.checkpointSizes);
    }
    console.info(
      `checkpoints per log after ${KILLS} kills: ${proofs.logs.map((l) => `${l.origin} ${l.checkpointSizes.join(',')}`).join('; ')}`,
    );
  });
});
