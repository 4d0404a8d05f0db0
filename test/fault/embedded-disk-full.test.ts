import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestKey } from '@phi-audit/collector';
import { keysFileIn } from '@phi-audit/store-sqlite';
import { checkLaggingTiles } from '../harness/embedded-tiles.js';
import { checkSqliteLedger, checkSqliteProofs } from '../harness/sqlite-oracle.js';
import { freePort, runCli, startCli, waitFor, type CliProcess } from '../harness/processes.js';
import { createSyntheticEvents, seededRandom } from '../harness/synthetic-events.js';

// TESTING.md fault matrix, "disk full (SQLite)": with a PRAGMA max_page_count quota the ingest
// answers 507 (never 2xx) once the ledger is full, stores nothing of a refused request, and
// ingests again once space returns (here: restarted with a larger quota).
const TENANT = 'clinic-a';

describe('fault: the embedded ledger disk fills up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phi-embedded-full-'));
  let current: CliProcess | undefined;
  afterAll(async () => {
    await current?.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'answers 507 and never 2xx for what it did not store, then recovers with space',
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const { key } = await createIngestKey({ file: keysFileIn(dataDir), tenant: TENANT, source: 'ehr' });
      const post = async (events: unknown[]): Promise<number> =>
        (
          await fetch(`${url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify(events),
          })
        ).status;
      const start = async (maxPages: number): Promise<void> => {
        current = startCli(['start'], {
          PORT: String(port),
          PHI_AUDIT_DATA_DIR: dataDir,
          PHI_AUDIT_MAX_DB_PAGES: String(maxPages),
          LOG_LEVEL: 'warn',
        });
        await waitFor('embedded ready', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
      };

      await start(64);
      const generator = createSyntheticEvents({ seed: 3, runId: `efull${Date.now()}`, tenants: [TENANT] });
      const random = seededRandom(9);
      const acknowledged = new Set<string>();
      const refused = new Set<string>();
      const statuses = new Map<number, number>();
      // Keep going well past the first 507: smaller batches may still fit, bigger ones must not be half-stored.
      for (let i = 0; i < 2_000 && refused.size < 2_000; i++) {
        const events = Array.from({ length: 1 + Math.floor(random() * 100) }, () => generator.next(TENANT));
        const status = await post(events);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        for (const e of events) (status >= 200 && status < 300 ? acknowledged : refused).add(e.eventId);
      }
      console.info(
        `quota 64 pages: ${acknowledged.size} events acknowledged; statuses ${JSON.stringify([...statuses])}`,
      );
      expect([...statuses.keys()].sort()).toEqual([202, 507]);
      expect(await current?.stop()).toBe(0);

      const full = await checkSqliteLedger(dataDir);
      expect(full.failures).toEqual([]);
      // A refused group left neither records nor tiles behind; the tiles held back between full
      // tiles may lag (storing them needs space too) but never behind a signed checkpoint.
      // (Checkpoints may lag here: signing needs space too; both catch up below.)
      expect((await checkLaggingTiles(dataDir)).problems).toEqual([]);
      expect(full.ids.filter((id) => !acknowledged.has(id))).toEqual([]); // nothing refused was stored
      expect([...acknowledged].filter((id) => !full.ids.includes(id))).toEqual([]); // every 2xx stored
      expect(full.ids).toHaveLength(acknowledged.size);

      await start(100_000);
      const more = Array.from({ length: 200 }, () => generator.next(TENANT));
      expect(await post(more)).toBe(202);
      expect(await current?.stop()).toBe(0);
      current = undefined;

      const after = await checkSqliteLedger(dataDir);
      expect(after.failures).toEqual([]);
      expect(after.ids).toEqual([...full.ids, ...more.map((e) => e.eventId)]);
      const verify = await runCli(['verify', '--data', dataDir]);
      expect(verify.code, verify.output).toBe(0);
      // With space again the checkpoints caught up: signed at the head, exported.
      expect((await checkSqliteProofs(dataDir, { complete: true })).problems).toEqual([]);
    },
  );
});
