import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointFacts, expectedCheckpointFacts } from '../harness/checkpoint-check.js';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { runLoad } from '../harness/load.js';
import { checkNoLoss, countRows } from '../harness/oracle.js';
import { runCli, waitFor } from '../harness/processes.js';
import { createSyntheticEvents, type PostedEvent } from '../harness/synthetic-events.js';

// Issue: 20,000 events from 3 tenants, posted as concurrent batches, end as exactly 20,000 rows
// with correct per-tenant counts, and `verify` passes.
const TENANTS = ['clinic-a', 'clinic-b', 'hospital-c'] as const;
const PER_TENANT = [5_000, 6_000, 9_000] as const;

describe('cluster pipeline: collector → Kafka → ledger-writer → ClickHouse', () => {
  let stack: ClusterStack;
  beforeAll(async () => {
    stack = await startClusterStack({ name: 'pipeline', tenants: TENANTS });
  });
  afterAll(async () => stack?.close());

  it('stores 20,000 concurrently posted events exactly once, per tenant, and verifies', async () => {
    const generator = createSyntheticEvents({ seed: 42, runId: `pipe${Date.now()}`, tenants: TENANTS });
    const batches: { tenant: string; events: PostedEvent[] }[] = [];
    TENANTS.forEach((tenant, i) => {
      let left = PER_TENANT[i] as number;
      while (left > 0) {
        const size = Math.min(left, 50 + ((left * 7) % 450)); // uneven batch sizes 50..499
        batches.push({ tenant, events: Array.from({ length: size }, () => generator.next(tenant)) });
        left -= size;
      }
    });
    batches.sort((a, b) => a.events[0]!.eventId.localeCompare(b.events[0]!.eventId)); // interleave tenants

    const load = await runLoad({ url: stack.collectorUrl, keys: stack.keys, batches, concurrency: 8 });
    expect(load.failedRequests, JSON.stringify([...load.statuses])).toBe(0);
    expect(load.acknowledged.size).toBe(20_000);

    await waitFor(
      '20,000 ledger rows',
      async () => (await countRows(stack.clickhouseUrl, stack.database)) >= 20_000,
      120_000,
    );
    const report = await checkNoLoss({ clickhouseUrl: stack.clickhouseUrl, database: stack.database, ...load });
    expect(report.lost).toEqual([]);
    expect(report.invented).toEqual([]);
    expect(report.duplicatedLogs).toEqual([]);
    expect(report.storedRows).toBe(20_000);

    const counts = await runCli(
      ['verify', '--clickhouse', stack.clickhouseUrl, '--database', stack.database],
      stack.env,
    );
    expect(counts.code, counts.output).toBe(0);
    // One log per partition: 6 logs, each named in the output.
    for (let p = 0; p < 6; p++) expect(counts.output).toContain(`phi-audit/${stack.topic}/${p}`);

    const { createClient } = await import('@clickhouse/client');
    const client = createClient({ url: stack.clickhouseUrl, database: stack.database });
    const perTenant = await (
      await client.query({
        query: 'SELECT tenant, toString(count()) AS n FROM access_log GROUP BY tenant ORDER BY tenant',
        format: 'JSONEachRow',
      })
    ).json<{ tenant: string; n: string }>();
    await client.close();
    expect(perTenant).toEqual(TENANTS.map((tenant, i) => ({ tenant, n: String(PER_TENANT[i]) })));

    // Signed checkpoints: the writer stopped gracefully signs every log at its full size.
    expect(await stack.writer.stop()).toBe(0);
    const facts = await checkpointFacts(stack);
    expect(facts.map((f) => f.origin)).toEqual(Array.from({ length: 6 }, (_, p) => `phi-audit/${stack.topic}/${p}`));
    expect(facts.reduce((n, f) => n + f.records, 0)).toBe(20_000);
    expect(facts).toMatchObject(facts.map(expectedCheckpointFacts));
  });
});
