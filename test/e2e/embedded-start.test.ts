import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFromOutput } from '../harness/embedded-cli.js';
import { freePort, runCli, startCli, waitFor, type CliProcess } from '../harness/processes.js';
import { checkSqliteProofs } from '../harness/sqlite-oracle.js';

// `npm start` on a fresh machine: `node packages/cli/dist/bin.js start` is exactly what the
// root package.json's start script runs (npm only adds a wrapper process).
describe('e2e: phi-audit start (embedded mode) from an empty data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-embedded-start-'));
  const dataDir = join(root, 'data');
  const processes: CliProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill9();
    rmSync(root, { recursive: true, force: true });
  });

  it(
    'prints the banner, is ready within 2 s, refuses a second instance, stops cleanly',
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = { PORT: String(port), PHI_AUDIT_DATA_DIR: dataDir };

      const spawned = performance.now();
      const first = startCli(['start'], env);
      processes.push(first);
      let readyMs = -1;
      while (performance.now() - spawned < 10_000 && first.child.exitCode === null) {
        const status = await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) {
          readyMs = performance.now() - spawned;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      // Cold-start time is measured by `npm run bench:embedded`, not asserted here.
      console.info(`cold start: spawn → /readyz 200 in ${readyMs.toFixed(0)} ms`);
      expect(readyMs, first.output()).toBeGreaterThan(0);

      const output = first.output();
      expect(output).toContain('a new access ledger was created');
      expect(output).toContain(`phi-audit listening on ${url} (data: ${dataDir})`);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      // The signing key was created beside the ledger (owner-only), its verifier key next to it;
      // the banner says where both are and that the verifier key and checkpoints must leave the machine.
      const signingKey = join(dataDir, 'checkpoint-signing.key');
      expect(statSync(signingKey).mode & 0o077).toBe(0);
      expect(existsSync(`${signingKey}.pub`)).toBe(true);
      expect(output).toContain(signingKey);
      expect(output).toContain(`${signingKey}.pub`);
      expect(output).toContain(join(dataDir, 'checkpoints'));
      expect(output).toMatch(/copy the verifier key and the exported checkpoints off this machine/);
      expect(output).toMatch(/CHECKPOINT_EXPORT_URL/);
      expect(output).not.toMatch(/PRIVATE\+KEY/);

      // The banner's own instructions work: create a key as shown, post its curl example.
      const keyLine = /npm run phi-audit -- (keys create .*)$/m.exec(output)?.[1];
      expect(keyLine).toBeDefined();
      const created = await runCli(keyLine!.split(' '));
      expect(created.code, created.output).toBe(0);
      const key = keyFromOutput(created.output);
      expect(key).toBeDefined();
      const example = /--data '(.*)'$/m.exec(output)?.[1];
      expect(example).toBeDefined();
      // The running ledger re-reads the key file at most once a second.
      let status = 0;
      await waitFor(
        'the new key accepted',
        async () => {
          const posted = await fetch(`${url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key!}` },
            body: example!,
          });
          status = posted.status;
          return status !== 401;
        },
        5_000,
      );
      expect(status).toBe(202);

      // The banner's auditor line gives a key the ledger API accepts (and the ingest key is refused there).
      const auditorLine = /npm run phi-audit -- (keys create .* --role auditor)$/m.exec(output)?.[1];
      expect(auditorLine).toBeDefined();
      const auditorCreated = await runCli(auditorLine!.split(' '));
      expect(auditorCreated.code, auditorCreated.output).toBe(0);
      const auditorKey = keyFromOutput(auditorCreated.output);
      let logs: Response | undefined;
      await waitFor(
        'the auditor key accepted',
        async () => {
          logs = await fetch(`${url}/v1/ledger/logs`, { headers: { authorization: `Bearer ${auditorKey!}` } });
          return logs.status !== 401;
        },
        5_000,
      );
      expect(logs?.status).toBe(200);
      expect(((await logs!.json()) as { logs: { size: number }[] }).logs.map((l) => l.size)).toEqual([1]);
      const asIngest = await fetch(`${url}/v1/ledger/logs`, { headers: { authorization: `Bearer ${key!}` } });
      expect([401, 403]).toContain(asIngest.status);

      // A second instance on the same data directory refuses, naming the directory and the owner.
      const second = await runCli(['start'], { PORT: String(await freePort()), PHI_AUDIT_DATA_DIR: dataDir });
      expect(second.code).not.toBe(0);
      expect(second.output).toContain(
        `the data directory ${dataDir} is in use by another phi-audit process (pid ${first.child.pid})`,
      );
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      expect(await first.stop()).toBe(0);
      expect(existsSync(join(dataDir, 'phi-audit.lock'))).toBe(false);

      // A second start finds the ledger: no banner, the same listening line, the event still there.
      const again = startCli(['start'], env);
      processes.push(again);
      const deadline = Date.now() + 10_000;
      while (!again.output().includes('phi-audit listening on') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(again.output()).toContain(`phi-audit listening on ${url} (data: ${dataDir})`);
      expect(again.output()).not.toContain('a new access ledger was created');
      expect(await again.stop()).toBe(0);
      // The one event is in a signed checkpoint, exported next to the ledger, its tiles stored.
      const proofs = await checkSqliteProofs(dataDir, { complete: true });
      expect(proofs.problems).toEqual([]);
      expect(proofs.logs.map((l) => [l.size, l.tileCoverage, l.checkpointSizes])).toEqual([[1, 1, [1]]]);
      const verify = await runCli(['verify', '--data', dataDir]);
      expect(verify.code, verify.output).toBe(0);
      expect(verify.output).toContain('1 records');
    },
  );
});
