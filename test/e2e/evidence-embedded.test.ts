import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteLedgerStore, embeddedOrigin, ledgerFileIn } from '@phi-audit/store-sqlite';
import { createKeyWithCli, startEmbeddedCli } from '../harness/embedded-cli.js';
import { runCli, waitFor, type CliProcess } from '../harness/processes.js';

// An investigator's round trip on a real embedded ledger: events in over HTTP, checkpointed by
// the running process, `phi-audit evidence` out of the data directory, `phi-audit
// verify-evidence` by a third party — also after the ledger is gone.
describe('e2e: evidence bundles from an embedded ledger', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-evidence-e2e-'));
  const dataDir = join(root, 'data');
  const processes: CliProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill9();
    rmSync(root, { recursive: true, force: true });
  });

  it(
    'exports a patient’s accesses, verifies with the published key, fails when tampered, verifies offline',
    { timeout: 120_000 },
    async () => {
      const { process: ledger, url } = await startEmbeddedCli({
        dataDir,
        env: { CHECKPOINT_INTERVAL_SECONDS: '1', LOG_LEVEL: 'warn' },
        readyTimeoutMs: 20_000,
      });
      processes.push(ledger);

      const key = await createKeyWithCli(dataDir, '--tenant', 'clinic-a', '--source', 'ehr');

      const base = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
      const events = Array.from({ length: 8 }, (_, i) => ({
        eventId: `evd-${i}`,
        occurredAt: new Date(base + i * 60_000).toISOString(),
        actor: { userId: `dr.${i % 3}`, role: 'physician', name: 'Dr. Confidential' },
        patient: { id: `MRN-${i % 2}` },
        action: i % 4 === 3 ? 'print' : 'view',
        resource: { type: 'Patient' },
        outcome: 'success',
      }));
      let status = 0;
      let answer = '';
      await waitFor(
        'the ingest key accepted',
        async () => {
          const posted = await fetch(`${url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify(events),
          });
          status = posted.status;
          answer = await posted.text();
          return status !== 401;
        },
        10_000,
      );
      expect(status, answer).toBe(202);

      // CHECKPOINT_INTERVAL_SECONDS=1: the running process signs a checkpoint covering all 8 soon.
      const origin = embeddedOrigin('clinic-a');
      await waitFor(
        'a checkpoint covering every event',
        async () => {
          const store = createSqliteLedgerStore({ file: ledgerFileIn(dataDir), readonly: true });
          try {
            return ((await store.latestCheckpoint(origin))?.size ?? 0) >= events.length;
          } finally {
            await store.close();
          }
        },
        20_000,
      );

      const bundle = join(root, 'mrn-1.evidence.json');
      const exported = await runCli([
        'evidence',
        '--data',
        dataDir,
        '--tenant',
        'clinic-a',
        '--patient',
        'MRN-1',
        '--out',
        bundle,
      ]);
      expect(exported.code, exported.output).toBe(0);
      expect(exported.output).toContain('4 records from 1 log');
      expect(exported.output).toContain(`${origin}: 4 records, checkpoint size 8`);
      expect(exported.output).not.toContain('Confidential');
      expect(exported.output).not.toContain('MRN-1');
      expect(statSync(bundle).mode & 0o777).toBe(0o600);

      const publishedKey = join(dataDir, 'checkpoint-signing.key.pub');
      const verified = await runCli(['verify-evidence', bundle, '--key', publishedKey]);
      expect(verified.code, verified.output).toBe(0);
      for (const i of [1, 3, 5, 7]) {
        expect(verified.output).toContain(
          `${origin}  ${i}  evd-${i}  ${new Date(base + i * 60_000).toISOString()}  ${events[i]!.action}`,
        );
      }
      expect(verified.output).not.toContain('evd-0');

      const tampered = join(root, 'tampered.json');
      const text = readFileSync(bundle, 'utf8');
      writeFileSync(tampered, text.replace('\\"action\\":\\"print\\"', '\\"action\\":\\"view\\"'));
      expect(readFileSync(tampered, 'utf8')).not.toBe(text);
      const rejected = await runCli(['verify-evidence', tampered, '--key', publishedKey]);
      expect(rejected.code, rejected.output).toBe(1);
      expect(rejected.output).toMatch(/INVALID: record 1 \(log .*, index 3\): inclusion proof fails/);

      // Offline: the ledger process and its data directory are gone; the bundle and key suffice.
      expect(await ledger.stop()).toBe(0);
      const keyCopy = join(root, 'published.pub');
      copyFileSync(publishedKey, keyCopy);
      rmSync(dataDir, { recursive: true, force: true });
      const offline = await runCli(['verify-evidence', bundle, '--key', keyCopy]);
      expect(offline.code, offline.output).toBe(0);
      expect(offline.output).toContain('every checkpoint signed by a trusted key');
    },
  );
});
