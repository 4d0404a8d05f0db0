import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestKey } from '@phi-audit/collector';
import { openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion } from '@phi-audit/ledger';
import { embeddedOrigin, keysFileIn } from '@phi-audit/store-sqlite';
import { checkLaggingTiles } from '../harness/embedded-tiles.js';
import { runLoad } from '../harness/load.js';
import { checkSqliteLedger, checkSqliteProofs } from '../harness/sqlite-oracle.js';
import { freePort, runCli, startCli, waitFor, type CliProcess } from '../harness/processes.js';
import { createSyntheticEvents, type PostedEvent } from '../harness/synthetic-events.js';

// Small commits hold the partial 256-leaf tile back (only a checkpoint or a clean stop stores
// it): kill -9 between such commits leaves the tiles lagging. The next start repairs them from
// the stored coverage, and the checkpoint it signs, its API proofs and `verify` all hold.
const TENANT = 'clinic-a';

interface LogsBody {
  logs: { origin: string; size: number; checkpoint: { size: number } | null }[];
}

describe('e2e: embedded mode killed between small commits (held-back Merkle tiles)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phi-embedded-tiles-'));
  let current: CliProcess | undefined;
  afterAll(async () => {
    await current?.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'kill -9 → restart repairs the tiles; the checkpoint at the head and its proofs verify',
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = { PORT: String(port), PHI_AUDIT_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
      const keys = new Map([
        [TENANT, (await createIngestKey({ file: keysFileIn(dataDir), tenant: TENANT, source: 'ehr' })).key],
      ]);
      const created = await runCli(['keys', 'create', '--role', 'auditor', '--data', dataDir]);
      expect(created.code, created.output).toBe(0);
      const auditor = /^(phia_\S+)$/m.exec(created.output)?.[1];
      expect(auditor).toBeDefined();
      const get = (path: string): Promise<Response> =>
        fetch(`${url}/v1/ledger${path}`, { headers: { authorization: `Bearer ${auditor!}` } });
      const logsNow = async (): Promise<LogsBody> => (await (await get('/logs')).json()) as LogsBody;
      const origin = embeddedOrigin(TENANT);
      const log = encodeURIComponent(origin);
      const generator = createSyntheticEvents({ seed: 41, runId: `etiles${Date.now()}`, tenants: [TENANT] });
      const singles = async (count: number): Promise<void> => {
        function* batches(): Generator<{ tenant: string; events: PostedEvent[] }> {
          for (let i = 0; i < count; i++) yield { tenant: TENANT, events: [generator.next(TENANT)] };
        }
        const result = await runLoad({ url, keys, batches: batches(), concurrency: 8 });
        expect(result.failedRequests).toBe(0);
      };

      // No checkpoint by count; by time only the first one (a log never signed is due at once).
      current = startCli(['start'], {
        ...env,
        CHECKPOINT_EVERY_RECORDS: '100000',
        CHECKPOINT_INTERVAL_SECONDS: '3600',
      });
      await waitFor('embedded ready', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
      await singles(1);
      await waitFor('the first checkpoint', async () => (await logsNow()).logs[0]?.checkpoint?.size === 1, 30_000);
      const first = openCheckpoint(await (await get(`/checkpoint?log=${log}`)).text(), [
        parseVerifierKey(readFileSync(join(dataDir, 'checkpoint-signing.key.pub'), 'utf8')),
      ]).checkpoint;
      await singles(299);
      await current.kill9();
      current = undefined;

      // As the kill left it: the full tile stored with the group completing it (up to 8 requests,
      // so up to 263 leaves), the leaves after it held back (no small commit rewrote the partial
      // tile), the checkpoint at 1 still provable from the stored tiles.
      const atKill = await checkLaggingTiles(dataDir);
      expect(atKill.problems).toEqual([]);
      expect(atKill.logs).toEqual([{ origin, size: 300, coverage: expect.any(Number), checkpointSize: 1 }]);
      expect(atKill.logs[0]!.coverage).toBeGreaterThanOrEqual(256);
      expect(atKill.logs[0]!.coverage).toBeLessThan(256 + 8);

      // The restart repairs the tiles and, the log having grown, signs it at its head within a tick.
      current = startCli(['start'], { ...env, CHECKPOINT_INTERVAL_SECONDS: '1' });
      await waitFor('embedded ready again', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
      await waitFor(
        'a checkpoint at the head',
        async () => (await logsNow()).logs[0]?.checkpoint?.size === 300,
        30_000,
      );
      const verifier = parseVerifierKey(readFileSync(join(dataDir, 'checkpoint-signing.key.pub'), 'utf8'));
      const { checkpoint } = openCheckpoint(await (await get(`/checkpoint?log=${log}`)).text(), [verifier]);
      expect(checkpoint).toMatchObject({ origin, size: 300 });
      for (const index of [0, 255, 256, 280, 299]) {
        const response = await get(`/inclusion?log=${log}&index=${index}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { leafHash: string; proof: string[] };
        const check = verifyInclusion({
          index,
          size: 300,
          leafHash: Buffer.from(body.leafHash, 'hex'),
          proof: body.proof.map((h) => Buffer.from(h, 'hex')),
          root: checkpoint.root,
        });
        expect(check, `index ${index}`).toEqual({ ok: true });
      }
      const consistency = await get(`/consistency?log=${log}&from=1`);
      expect(consistency.status).toBe(200);
      const { proof } = (await consistency.json()) as { proof: string[] };
      expect(
        verifyConsistency({
          size1: 1,
          size2: 300,
          root1: first.root,
          root2: checkpoint.root,
          proof: proof.map((h) => Buffer.from(h, 'hex')),
        }),
      ).toEqual({ ok: true });
      expect(await current.stop()).toBe(0);
      current = undefined;

      const report = await checkSqliteProofs(dataDir, { complete: true });
      expect(report.problems).toEqual([]);
      expect(report.logs.map((l) => [l.size, l.tileCoverage])).toEqual([[300, 300]]);
      expect((await checkSqliteLedger(dataDir)).failures).toEqual([]);
      const verify = await runCli(['verify', '--data', dataDir]);
      expect(verify.code, verify.output).toBe(0);
    },
  );
});
