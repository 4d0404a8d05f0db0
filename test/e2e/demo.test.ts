import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { countRows } from '../harness/oracle.js';
import { runCli, waitFor } from '../harness/processes.js';

// Issue: `phi-audit demo` sends realistic synthetic traffic to a running instance at a chosen rate.
describe('phi-audit demo against a running cluster stack', () => {
  let stack: ClusterStack;
  beforeAll(async () => {
    stack = await startClusterStack({ name: 'demo', tenants: ['demo-clinic'] });
  });
  afterAll(async () => stack?.close());

  it('sends rate × duration clinic events, all accepted and stored', async () => {
    const key = stack.keys.get('demo-clinic')!;
    const args = ['demo', '--url', stack.collectorUrl, '--key', key, '--profile', 'clinic'];
    const run = await runCli([...args, '--rate', '200', '--duration', '3']);
    expect(run.code, run.output).toBe(0);
    const summary = /demo finished: sent (\d+), accepted (\d+), rejected (\d+), errors (\d+)/.exec(run.output);
    expect(summary, run.output).not.toBeNull();
    const [, sent, accepted, rejected, errors] = summary!.map(Number);
    expect(sent).toBeGreaterThanOrEqual(550);
    expect(sent).toBeLessThanOrEqual(600);
    expect(accepted).toBe(sent);
    expect(rejected).toBe(0);
    expect(errors).toBe(0);
    expect(run.output).toMatch(/demo clinic: sent \d+, accepted \d+/); // progress lines, counts only
    expect(run.output).not.toMatch(/MRN\d/); // no patient ids in the output

    // The facility's reference data went in first, through the collector into ClickHouse.
    const reference = (await (
      await fetch(`${stack.collectorUrl}/v1/reference`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { tenant: string; version: number; loads: { kind: string; count: number }[] };
    expect(reference.tenant).toBe('demo-clinic');
    expect(reference.loads.slice(0, 3).map((l) => [l.kind, l.count > 0])).toEqual([
      ['workforce', true],
      ['patients', true],
      ['relationships', true],
    ]);
    expect(reference.version).toBe(reference.loads.length);
    const referenceLine = /reference data: (\d+) records in (\d+) loads/.exec(run.output);
    expect(Number(referenceLine?.[2])).toBe(reference.loads.length);
    expect(Number(referenceLine?.[1])).toBe(reference.loads.reduce((n, l) => n + l.count, 0));

    await waitFor(
      `${accepted} ledger rows`,
      async () => (await countRows(stack.clickhouseUrl, stack.database)) >= accepted!,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await countRows(stack.clickhouseUrl, stack.database)).toBe(accepted);

    const { createClient } = await import('@clickhouse/client');
    const client = createClient({ url: stack.clickhouseUrl, database: stack.database });
    try {
      const rows = await (
        await client.query({
          query:
            "SELECT toString(uniqExact(user_id)) AS users, toString(uniqExact(patient_id)) AS patients, toString(uniqExact(action)) AS actions, toString(countIf(tenant != 'demo-clinic')) AS foreign FROM access_log",
          format: 'JSONEachRow',
        })
      ).json<{ users: string; patients: string; actions: string; foreign: string }>();
      expect(Number(rows[0]!.users)).toBeGreaterThanOrEqual(4);
      expect(Number(rows[0]!.patients)).toBeGreaterThanOrEqual(20);
      expect(Number(rows[0]!.actions)).toBeGreaterThanOrEqual(4);
      expect(rows[0]!.foreign).toBe('0');
    } finally {
      await client.close();
    }
  });

  it('stops at once with a clear message and a failure code when the key is wrong', async () => {
    const started = Date.now();
    const run = await runCli([
      'demo',
      '--url',
      stack.collectorUrl,
      '--key',
      'not-a-real-key',
      '--rate',
      '50',
      '--duration',
      '30',
    ]);
    expect(run.code).not.toBe(0);
    // The reference data goes first, so the reference API is the one refusing the key.
    expect(run.output).toMatch(/401 REFERENCE_UNAUTHORIZED: unknown or revoked ingest key/);
    expect(run.output.match(/_UNAUTHORIZED/g)).toHaveLength(1); // said once, no retry loop
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
