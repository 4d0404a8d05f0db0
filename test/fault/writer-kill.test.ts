import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

    // Kill the writer each time another sixth of the load has been stored, then restart it.
    let kills = 0;
    let killing = false;
    const killer = setInterval(() => {
      if (killing || kills >= KILLS) return;
      killing = true;
      void (async () => {
        const stored = await countRows(stack.clickhouseUrl, stack.database).catch(() => 0);
        if (stored >= ((kills + 1) * TOTAL) / (KILLS + 1)) {
          await stack.writer.kill9();
          kills += 1;
          await stack.startWriter();
        }
      })().finally(() => {
        killing = false;
      });
    }, 100);

    const load = await runLoad({ url: stack.collectorUrl, keys: stack.keys, batches: batches(), concurrency: 6 });
    expect(load.failedRequests, JSON.stringify([...load.statuses])).toBe(0);
    await waitFor('five kills', async () => kills >= KILLS && !killing, 300_000);
    clearInterval(killer);
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

    const verify = await runCli(['verify', '--clickhouse', stack.clickhouseUrl, '--database', stack.database], stack.env);
    expect(verify.code, verify.output).toBe(0);
  });
});
