import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { countRows } from '../harness/oracle.js';
import { runCli, waitFor } from '../harness/processes.js';

// The same round trip against the cluster-mode ledger: Kafka → ledger-writer → ClickHouse,
// checkpoints signed by the writer, evidence read from ClickHouse.
const EVENTS = 24;

describe('e2e: evidence bundles from the ClickHouse ledger', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-evidence-cluster-'));
  let stack: ClusterStack | undefined;

  // The stack's writers sign checkpoints (every 2 s) with a key of the stack's own.
  beforeAll(async () => {
    stack = await startClusterStack({ name: 'evidence', tenants: ['clinic-a'], partitions: 3 });
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it(
    'exports a patient’s accesses across partitions, verifies with the key, fails when tampered',
    { timeout: 180_000 },
    async () => {
      const s = stack!;
      const base = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
      const events = Array.from({ length: EVENTS }, (_, i) => ({
        eventId: `cl-evd-${i}`,
        occurredAt: new Date(base + i * 1000).toISOString(),
        actor: { userId: `dr.${i}`, role: 'nurse' },
        patient: { id: `MRN-${i % 3}` },
        action: 'view',
        resource: { type: 'Patient' },
        outcome: 'success',
      }));
      const posted = await fetch(`${s.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.keys.get('clinic-a')!}` },
        body: JSON.stringify(events),
      });
      expect(posted.status, await posted.text()).toBe(202);
      await waitFor('ledger rows', async () => (await countRows(s.clickhouseUrl, s.database)) >= EVENTS, 60_000).catch(
        (e: unknown) => {
          throw new Error(`${String(e)}\nwriter:\n${s.writer.output()}\ncollector:\n${s.collector.output()}`);
        },
      );

      const store = createClickHouseLedgerStore({ url: s.clickhouseUrl, database: s.database });
      try {
        await waitFor(
          'checkpoints covering every log',
          async () => {
            const heads = await store.heads();
            const sizes = await Promise.all(
              heads.map(async (h) => (await store.latestCheckpoint(h.origin))?.size ?? 0),
            );
            return heads.every((h, i) => sizes[i]! >= h.size);
          },
          60_000,
        );
      } finally {
        await store.close();
      }

      const bundle = join(root, 'mrn-2.evidence.json');
      const exported = await runCli([
        'evidence',
        '--clickhouse',
        s.clickhouseUrl,
        '--database',
        s.database,
        '--tenant',
        'clinic-a',
        '--patient',
        'MRN-2',
        '--key',
        s.verifierKeyFile,
        '--out',
        bundle,
      ]);
      expect(exported.code, exported.output).toBe(0);
      // One user per event: the partitioner (tenant:user) spreads the patient over several logs.
      expect(exported.output).toMatch(new RegExp(`${EVENTS / 3} records from [23] logs`));
      expect(statSync(bundle).mode & 0o777).toBe(0o600);

      const verified = await runCli(['verify-evidence', bundle, '--key', s.verifierKeyFile]);
      expect(verified.code, verified.output).toBe(0);
      const listed = [...verified.output.matchAll(/cl-evd-(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
      expect(listed).toEqual(events.map((_, i) => i).filter((i) => i % 3 === 2));

      const text = readFileSync(bundle, 'utf8');
      const tampered = join(root, 'tampered.json');
      writeFileSync(tampered, text.replace('\\"role\\":\\"nurse\\"', '\\"role\\":\\"nursf\\"'));
      expect(readFileSync(tampered, 'utf8')).not.toBe(text);
      const rejected = await runCli(['verify-evidence', tampered, '--key', s.verifierKeyFile]);
      expect(rejected.code, rejected.output).toBe(1);
      expect(rejected.output).toContain('inclusion proof fails');
    },
  );
});
