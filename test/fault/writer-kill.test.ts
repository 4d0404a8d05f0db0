import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointFacts, expectedCheckpointFacts } from '../harness/checkpoint-check.js';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { runLoad } from '../harness/load.js';
import { checkNoLoss, countRows } from '../harness/oracle.js';
import { runCli, waitFor } from '../harness/processes.js';
import { createSyntheticEvents, type PostedEvent } from '../harness/synthetic-events.js';

// Issue: kill -9 of the ledger-writer five times during a 100,000-event load, restarting it
// each time: the no-loss oracle of TESTING.md holds.
const TOTAL = 100_000;
const BATCH = 250;
const KILLS = 5;
const TENANTS = ['clinic-a', 'clinic-b'] as const;

describe('fault: ledger-writer killed with SIGKILL mid-load', () => {
  let stack: ClusterStack;
  beforeAll(async () => {
    stack = await startClusterStack({ name: 'writerkill', tenants: TENANTS });
  });
  afterAll(async () => stack?.close());

  it('loses nothing, duplicates nothing, invents nothing, and the chains verify', { timeout: 600_000 }, async () => {
    const generator = createSyntheticEvents({ seed: 7, runId: `kill${Date.now()}`, tenants: TENANTS });
    function* batches(): Generator<{ tenant: string; events: PostedEvent[] }> {
      for (let i = 0; i < TOTAL / BATCH; i++) {
        const tenant = TENANTS[i % TENANTS.length]!;
        yield { tenant, events: Array.from({ length: BATCH }, () => generator.next(tenant)) };
      }
    }

    // Paced at 1,500 events/s the load lasts ~67 s. A restarted writer writes again only after
    // the killed member's session expires (6 s) and it joined (~3 s), so each kill waits until the
    // current writer has stored rows of its own: every kill lands while it is writing, never
    // while it is still starting (which would test nothing).
    let kills = 0;
    let loading = true;
    const killLog: string[] = [];
    const started = Date.now();
    const killer = (async () => {
      let rowsAtStart = 0;
      while (kills < KILLS && loading) {
        await new Promise((r) => setTimeout(r, 100));
        if (Date.now() - started < 5_000) continue;
        const stored = await countRows(stack.clickhouseUrl, stack.database).catch(() => -1);
        if (stored <= rowsAtStart) continue;
        await stack.writer.kill9();
        kills += 1;
        killLog.push(
          `kill ${kills} at ${((Date.now() - started) / 1000).toFixed(1)} s: ${stored} rows stored (${stored - rowsAtStart} by this writer), load ${loading ? 'running' : 'finished'}`,
        );
        rowsAtStart = await countRows(stack.clickhouseUrl, stack.database).catch(() => stored);
        await stack.startWriter();
      }
    })();

    const load = await runLoad({
      url: stack.collectorUrl,
      keys: stack.keys,
      batches: batches(),
      concurrency: 6,
      eventsPerSecond: 1_500,
    });
    loading = false;
    expect(load.failedRequests, JSON.stringify([...load.statuses])).toBe(0);
    await killer;
    console.info(killLog.join('\n'));
    expect(killLog.filter((line) => line.endsWith('load running'))).toHaveLength(KILLS);
    await waitFor(
      'all acknowledged events stored',
      async () => (await countRows(stack.clickhouseUrl, stack.database)) >= load.acknowledged.size,
      300_000,
    );
    // Give a restarted writer a moment to (not) write anything more, then check the oracle.
    await new Promise((r) => setTimeout(r, 2_000));
    const report = await checkNoLoss({ clickhouseUrl: stack.clickhouseUrl, database: stack.database, ...load });
    expect(report.lost).toEqual([]);
    expect(report.invented).toEqual([]);
    expect(report.duplicatedLogs).toEqual([]);
    expect(report.storedRows).toBe(load.acknowledged.size);

    const verify = await runCli(
      ['verify', '--clickhouse', stack.clickhouseUrl, '--database', stack.database],
      stack.env,
    );
    expect(verify.code, verify.output).toBe(0);

    // After five kills -9 (some between a records insert and its tiles insert, some with records
    // left unsigned), the restarted writer repaired the tiles, and once it stops gracefully every
    // log's tiles cover it and its latest checkpoint states its recomputed root.
    expect(await stack.writer.stop()).toBe(0);
    const facts = await checkpointFacts(stack);
    expect(facts.reduce((n, f) => n + f.records, 0)).toBe(load.acknowledged.size);
    expect(facts).toMatchObject(facts.map(expectedCheckpointFacts));
  });
});
