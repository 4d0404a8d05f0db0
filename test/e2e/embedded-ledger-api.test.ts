import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestKey } from '@phi-audit/collector';
import { openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion } from '@phi-audit/ledger';
import { embeddedOrigin, keysFileIn } from '@phi-audit/store-sqlite';
import { runLoad } from '../harness/load.js';
import { checkSqliteLedger, checkSqliteProofs } from '../harness/sqlite-oracle.js';
import { freePort, runCli, startCli, waitFor, type CliProcess } from '../harness/processes.js';
import { createSyntheticEvents, type PostedEvent } from '../harness/synthetic-events.js';

// `npm start` with a load from two tenants, then what an auditor does over HTTP: an auditor key
// from `phi-audit keys create --role auditor`, the logs, the signed checkpoint opened with the
// verifier key the first start wrote, and inclusion proofs checked against its root.
const TENANTS = ['clinic-a', 'clinic-b'] as const;

interface LogsBody {
  logs: { origin: string; size: number; checkpoint: { size: number; root: string; signedAt: number } | null }[];
}

describe('e2e: the embedded ledger API (auditor keys, checkpoints, proofs)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phi-embedded-api-'));
  let current: CliProcess | undefined;
  afterAll(async () => {
    await current?.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'serves logs, signed checkpoints and inclusion proofs that verify; ingest keys are refused; a restart continues the logs',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = {
        PORT: String(port),
        PHI_AUDIT_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        CHECKPOINT_EVERY_RECORDS: '500',
      };
      const keys = new Map<string, string>();
      for (const tenant of TENANTS) {
        keys.set(tenant, (await createIngestKey({ file: keysFileIn(dataDir), tenant, source: 'ehr' })).key);
      }
      const created = await runCli(['keys', 'create', '--role', 'auditor', '--data', dataDir]);
      expect(created.code, created.output).toBe(0);
      const auditor = /^(phia_\S+)$/m.exec(created.output)?.[1];
      expect(auditor).toBeDefined();
      const get = (path: string, bearer = auditor!): Promise<Response> =>
        fetch(`${url}/v1/ledger${path}`, { headers: { authorization: `Bearer ${bearer}` } });

      current = startCli(['start'], env);
      await waitFor('embedded ready', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
      const banner = current.output();
      expect(banner).toContain(join(dataDir, 'checkpoint-signing.key.pub'));
      expect(banner).toContain(join(dataDir, 'checkpoints'));
      const verifier = parseVerifierKey(readFileSync(join(dataDir, 'checkpoint-signing.key.pub'), 'utf8'));
      expect(banner).toContain(verifier.key);

      const generator = createSyntheticEvents({ seed: 21, runId: `eapi${Date.now()}`, tenants: TENANTS });
      const load = async (total: number): Promise<void> => {
        function* batches(): Generator<{ tenant: string; events: PostedEvent[] }> {
          for (let i = 0; i * 50 < total; i++) {
            const tenant = TENANTS[i % TENANTS.length]!;
            yield { tenant, events: Array.from({ length: 50 }, () => generator.next(tenant)) };
          }
        }
        const result = await runLoad({ url, keys, batches: batches(), concurrency: 4 });
        expect(result.failedRequests).toBe(0);
      };
      await load(3_000);

      expect((await fetch(`${url}/v1/ledger/logs`)).status).toBe(401);
      expect([401, 403]).toContain((await get('/logs', keys.get('clinic-a'))).status);

      // Signing follows the acknowledgements; the interval (10 s by default) covers the tail.
      let logs: LogsBody = { logs: [] };
      await waitFor(
        'checkpoints at the heads',
        async () => {
          logs = (await (await get('/logs')).json()) as LogsBody;
          return logs.logs.length === 2 && logs.logs.every((l) => l.checkpoint?.size === l.size);
        },
        30_000,
      );
      expect(logs.logs.map((l) => [l.origin, l.size]).sort()).toEqual(
        TENANTS.map((t) => [embeddedOrigin(t), 1_500]).sort(),
      );

      const origin = embeddedOrigin('clinic-b');
      const log = encodeURIComponent(origin);
      const noteResponse = await get(`/checkpoint?log=${log}`);
      expect(noteResponse.status).toBe(200);
      const firstNote = await noteResponse.text();
      const { checkpoint } = openCheckpoint(firstNote, [verifier]);
      expect(checkpoint).toMatchObject({ origin, size: 1_500 });
      for (const index of [0, 255, 256, 777, 1_499]) {
        const response = await get(`/inclusion?log=${log}&index=${index}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { index: number; size: number; leafHash: string; proof: string[] };
        expect(body).toMatchObject({ index, size: 1_500 });
        const check = verifyInclusion({
          index,
          size: checkpoint.size,
          leafHash: Buffer.from(body.leafHash, 'hex'),
          proof: body.proof.map((h) => Buffer.from(h, 'hex')),
          root: checkpoint.root,
        });
        expect(check, `index ${index}`).toEqual({ ok: true });
      }
      expect(await current.stop()).toBe(0);

      const afterFirst = await checkSqliteProofs(dataDir, { complete: true });
      expect(afterFirst.problems).toEqual([]);

      // A restart continues both logs: sizes go on, the old checkpoint is a prefix of the new one.
      current = startCli(['start'], env);
      await waitFor('embedded ready again', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
      await load(1_000);
      await waitFor(
        'checkpoints at the new heads',
        async () => {
          logs = (await (await get('/logs')).json()) as LogsBody;
          return logs.logs.every((l) => l.size === 2_000 && l.checkpoint?.size === 2_000);
        },
        30_000,
      );
      const latest = openCheckpoint(await (await get(`/checkpoint?log=${log}`)).text(), [verifier]).checkpoint;
      const consistency = await get(`/consistency?log=${log}&from=1500`);
      expect(consistency.status).toBe(200);
      const { proof } = (await consistency.json()) as { proof: string[] };
      expect(
        verifyConsistency({
          size1: 1_500,
          size2: latest.size,
          root1: checkpoint.root,
          root2: latest.root,
          proof: proof.map((h) => Buffer.from(h, 'hex')),
        }),
      ).toEqual({ ok: true });
      expect(await current.stop()).toBe(0);
      current = undefined;

      const report = await checkSqliteProofs(dataDir, { complete: true });
      expect(report.problems).toEqual([]);
      expect(report.logs.map((l) => l.size)).toEqual([2_000, 2_000]);
      expect((await checkSqliteLedger(dataDir)).failures).toEqual([]);
      const verify = await runCli(['verify', '--data', dataDir]);
      expect(verify.code, verify.output).toBe(0);
    },
  );
});
