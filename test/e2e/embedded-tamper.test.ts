import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportFileName } from '@phi-audit/checkpoints';
import { createIngestKey } from '@phi-audit/collector';
import {
  canonicalJson,
  createTileBuilder,
  generateNoteKey,
  GENESIS_CHAIN,
  leafHashOf,
  nextChain,
  parseSignerKey,
  rootOfLeafHashes,
  signCheckpoint,
} from '@phi-audit/ledger';
import { embeddedOrigin, keysFileIn, ledgerFileIn } from '@phi-audit/store-sqlite';
import { runLoad } from '../harness/load.js';
import { freePort, runCli, startCli, waitFor } from '../harness/processes.js';
import { createSyntheticEvents } from '../harness/synthetic-events.js';

// TESTING.md tamper matrix on the embedded (SQLite) ledger: a real data directory written by
// `phi-audit start` (records, tiles, signed and exported checkpoints, the signing key pair),
// copied once per case, changed the way someone holding the files could, then checked with
// `phi-audit verify --data <copy>`: exit 1 naming the index, the clean copy passing.
const EVENTS = 300;
const TENANT = 'clinic-a';

interface Row {
  seq: number;
  idx: number;
  source_offset: number;
  event_id: string;
  event_json: string;
  patient_id: string;
  leaf_hash: string;
}

describe('tamper evidence on the embedded (SQLite) ledger', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-embedded-tamper-'));
  const clean = join(root, 'clean');
  const emptyExportDir = join(root, 'no-export');
  const origin = embeddedOrigin(TENANT);
  let verifierKey = '';
  let copies = 0;

  beforeAll(async () => {
    mkdirSync(emptyExportDir);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), PHI_AUDIT_DATA_DIR: clean, LOG_LEVEL: 'warn', CHECKPOINT_INTERVAL_SECONDS: '1' };
    mkdirSync(clean, { mode: 0o700 });
    const { key } = await createIngestKey({ file: keysFileIn(clean), tenant: TENANT, source: 'ehr' });
    const server = startCli(['start'], env);
    try {
      await waitFor('embedded ready', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
      const generator = createSyntheticEvents({ seed: 5, runId: `etamper${Date.now()}`, tenants: [TENANT] });
      const batches = Array.from({ length: EVENTS / 50 }, () => ({
        tenant: TENANT,
        events: Array.from({ length: 50 }, () => generator.next(TENANT)),
      }));
      const load = await runLoad({ url, keys: new Map([[TENANT, key]]), batches, concurrency: 1 });
      expect(load.acknowledged.size).toBe(EVENTS);
    } finally {
      // A graceful stop signs and exports every log at its full size.
      expect(await server.stop(), server.output()).toBe(0);
    }
    const exported = join(clean, 'checkpoints', exportFileName(origin));
    expect(existsSync(exported)).toBe(true);
    expect(readFileSync(exported, 'utf8')).toContain(`\n${EVENTS}\n`);
    verifierKey = readFileSync(join(clean, 'checkpoint-signing.key.pub'), 'utf8').trim();
  }, 120_000);
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** A copy of the clean data directory, and an attacker's raw connection to its ledger. */
  function copyData(): { dir: string; db: Database.Database } {
    copies += 1;
    const dir = join(root, `copy-${copies}`);
    cpSync(clean, dir, { recursive: true });
    return { dir, db: new Database(ledgerFileIn(dir)) };
  }

  /** `phi-audit verify --data <dir>` with the auditor's copy of the verifier key (not the data directory's). */
  async function verify(
    copy: { dir: string; db: Database.Database },
    extra: string[] = [],
  ): Promise<{ code: number | null; output: string }> {
    copy.db.close();
    const result = await runCli(['verify', '--data', copy.dir, '--key', verifierKey, ...extra], {
      PHI_AUDIT_VERIFIER_KEYS: '',
    });
    rmSync(copy.dir, { recursive: true, force: true });
    return result;
  }

  function expectFailedAt(result: { code: number | null; output: string }, index: number, kind: string): void {
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain(`FAILED at index ${index}: ${kind}: `);
  }

  const rows = (db: Database.Database): Row[] =>
    db
      .prepare<[string], Row>(
        'SELECT seq, idx, source_offset, event_id, event_json, patient_id, leaf_hash FROM access_log WHERE log = ? ORDER BY idx',
      )
      .all(origin);

  it('passes on the clean data directory, trusting its own verifier key and export directory by default', async () => {
    const copy = copyData();
    copy.db.close();
    const result = await runCli(['verify', '--data', copy.dir], { PHI_AUDIT_VERIFIER_KEYS: '' });
    rmSync(copy.dir, { recursive: true, force: true });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(
      new RegExp(`${origin}  ${EVENTS} records  \\d+ checkpoints? \\(latest size ${EVENTS}\\)  OK`),
    );
    expect(result.output).toContain('trusting the verifier key in');
    expect(result.output).not.toContain('note:');
  });

  it('update one field of one row → the index', async () => {
    const copy = copyData();
    copy.db
      .prepare('UPDATE access_log SET event_json = replace(event_json, ?, ?) WHERE log = ? AND idx = 42')
      .run('"outcome":"success"', '"outcome":"failure"', origin);
    const changed = copy.db.prepare('SELECT changes() AS n').get() as { n: number };
    expect(changed.n).toBe(1);
    expectFailedAt(await verify(copy), 42, 'leaf_hash_mismatch');
  });

  it('delete a middle row → index_gap at it', async () => {
    const copy = copyData();
    copy.db.prepare('DELETE FROM access_log WHERE log = ? AND idx = 123').run(origin);
    expectFailedAt(await verify(copy), 123, 'index_gap');
  });

  it('swap two rows → the lower index', async () => {
    const copy = copyData();
    copy.db
      .prepare('UPDATE access_log SET idx = CASE idx WHEN 30 THEN 31 ELSE 30 END WHERE log = ? AND idx IN (30, 31)')
      .run(origin);
    expectFailedAt(await verify(copy), 30, 'leaf_hash_mismatch');
  });

  it('insert a forged row beside a genuine one → index_duplicate at it', async () => {
    const copy = copyData();
    const next = (copy.db.prepare('SELECT max(seq) + 1 AS seq FROM access_log').get() as { seq: number }).seq;
    copy.db
      .prepare(
        `INSERT INTO access_log SELECT ?, log, idx, source_offset, 'forged-1', tenant, occurred_ms, received_ms, source_system,
         user_id, user_role, user_department, workstation, 'MRN-FORGED', action, resource_type, outcome, event_json, leaf_hash, chain
         FROM access_log WHERE log = ? AND idx = 200`,
      )
      .run(next, origin);
    expectFailedAt(await verify(copy), 200, 'index_duplicate');
  });

  it('duplicate a row → index_duplicate at it', async () => {
    const copy = copyData();
    const next = (copy.db.prepare('SELECT max(seq) + 1 AS seq FROM access_log').get() as { seq: number }).seq;
    copy.db
      .prepare(
        `INSERT INTO access_log SELECT ?, log, idx, source_offset, event_id, tenant, occurred_ms, received_ms, source_system,
         user_id, user_role, user_department, workstation, patient_id, action, resource_type, outcome, event_json, leaf_hash, chain
         FROM access_log WHERE log = ? AND idx = 10`,
      )
      .run(next, origin);
    expectFailedAt(await verify(copy), 10, 'index_duplicate');
  });

  it('delete the tail → log_truncated, against the checkpoint in the store', async () => {
    const copy = copyData();
    copy.db.prepare('DELETE FROM access_log WHERE log = ? AND idx >= ?').run(origin, EVENTS - 7);
    const result = await verify(copy, ['--checkpoints', emptyExportDir]);
    expectFailedAt(result, EVENTS - 7, 'log_truncated');
    expect(result.output).toContain('checkpoint in the store says the log has');
  });

  it('delete the tail and the store checkpoints → log_truncated, against the exported checkpoint', async () => {
    const copy = copyData();
    copy.db.prepare('DELETE FROM access_log WHERE log = ? AND idx >= ?').run(origin, EVENTS - 7);
    copy.db.prepare('DELETE FROM checkpoints WHERE log = ?').run(origin);
    const result = await verify(copy);
    expectFailedAt(result, EVENTS - 7, 'log_truncated');
    expect(result.output).toContain(`${exportFileName(origin)} says the log has ${EVENTS} records`);
  });

  it('delete every row and the store checkpoints → the log still fails, at 0', async () => {
    const copy = copyData();
    copy.db.prepare('DELETE FROM access_log WHERE log = ?').run(origin);
    copy.db.prepare('DELETE FROM checkpoints WHERE log = ?').run(origin);
    expectFailedAt(await verify(copy), 0, 'log_truncated');
  });

  it('rewrite the whole log consistently without the signing key (hashes, chains, tiles) → checkpoint_root_mismatch at 0', async () => {
    const copy = copyData();
    const update = copy.db.prepare(
      'UPDATE access_log SET event_json = ?, patient_id = ?, leaf_hash = ?, chain = ? WHERE seq = ?',
    );
    const tiles = createTileBuilder({ size: 0, rightEdge: [] });
    let chain = GENESIS_CHAIN;
    copy.db.transaction(() => {
      for (const r of rows(copy.db)) {
        const event = JSON.parse(r.event_json) as { patient?: { id: string } };
        const forged = event.patient === undefined ? event : { ...event, patient: { id: 'MRN-REWRITTEN' } };
        const eventJson = canonicalJson(forged);
        const leafHash = leafHashOf({
          origin,
          index: r.idx,
          sourceOffset: r.source_offset,
          eventId: r.event_id,
          eventJson,
        });
        chain = nextChain(chain, leafHash);
        tiles.append([Buffer.from(leafHash, 'hex')]);
        update.run(eventJson, event.patient === undefined ? r.patient_id : 'MRN-REWRITTEN', leafHash, chain, r.seq);
      }
      copy.db.prepare('DELETE FROM merkle_tiles WHERE log = ?').run(origin);
      const insert = copy.db.prepare(
        'INSERT INTO merkle_tiles (log, level, tile_index, width, hashes) VALUES (?, ?, ?, ?, ?)',
      );
      for (const t of tiles.takeChanged()) insert.run(origin, t.level, t.index, t.hashes.length / 32, t.hashes);
    })();
    const result = await verify(copy);
    expectFailedAt(result, 0, 'checkpoint_root_mismatch');
    expect(result.output).not.toContain('MRN-REWRITTEN');
  });

  it('alter a checkpoint (note text) → checkpoint_invalid at its size', async () => {
    const copy = copyData();
    const latest = copy.db
      .prepare<[string], { rowid: number; note: string; size: number }>(
        'SELECT rowid, note, size FROM checkpoints WHERE log = ? ORDER BY size DESC LIMIT 1',
      )
      .get(origin)!;
    const altered = latest.note.replace(
      /^(.*\n\d+\n)(.)/,
      (_m, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`,
    );
    expect(altered).not.toBe(latest.note);
    copy.db.prepare('UPDATE checkpoints SET note = ? WHERE rowid = ?').run(altered, latest.rowid);
    expectFailedAt(await verify(copy, ['--checkpoints', emptyExportDir]), latest.size, 'checkpoint_invalid');
  });

  it('a checkpoint signed by an unknown key → checkpoint_unknown_key at its size', async () => {
    const copy = copyData();
    const leaves = rows(copy.db)
      .slice(0, 150)
      .map((r) => Buffer.from(r.leaf_hash, 'hex'));
    const rootHash = rootOfLeafHashes(leaves);
    const forger = parseSignerKey(generateNoteKey('phi-audit.attacker').signerKey);
    copy.db
      .prepare('INSERT INTO checkpoints (log, size, root, note, signed_ms) VALUES (?, ?, ?, ?, ?)')
      .run(
        origin,
        150,
        rootHash.toString('hex'),
        signCheckpoint({ origin, size: 150, root: rootHash }, forger),
        Date.now(),
      );
    expectFailedAt(await verify(copy), 150, 'checkpoint_unknown_key');
  });

  it('a tampered Merkle tile → tile_mismatch at the first record it covers', async () => {
    const copy = copyData();
    const tile = copy.db
      .prepare<[string], { hashes: Buffer }>(
        'SELECT hashes FROM merkle_tiles WHERE log = ? AND level = 0 AND tile_index = 1',
      )
      .get(origin)!;
    const hashes = Buffer.from(tile.hashes);
    hashes[0] = hashes[0]! ^ 0xff;
    copy.db
      .prepare('UPDATE merkle_tiles SET hashes = ? WHERE log = ? AND level = 0 AND tile_index = 1')
      .run(hashes, origin);
    expectFailedAt(await verify(copy), 256, 'tile_mismatch');
  });

  it('signing-key create writes a key pair whose verifier key verify accepts', async () => {
    const file = join(root, 'operator.key');
    const created = await runCli(['signing-key', 'create', '--name', 'phi-audit.example', '--out', file]);
    expect(created.code, created.output).toBe(0);
    const pub = readFileSync(`${file}.pub`, 'utf8').trim();
    expect(created.output).toContain(pub);
    expect(created.output).toContain(`${file}.pub`);
    expect(created.output).not.toContain(readFileSync(file, 'utf8').trim());
    const again = await runCli(['signing-key', 'create', '--name', 'phi-audit.example', '--out', file]);
    expect(again.code).toBe(2);
    // A key that signed nothing here: every stored checkpoint is unknown to it.
    const copy = copyData();
    copy.db.close();
    const result = await runCli(['verify', '--data', copy.dir, '--key', `${file}.pub`], {
      PHI_AUDIT_VERIFIER_KEYS: '',
    });
    rmSync(copy.dir, { recursive: true, force: true });
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain('checkpoint_unknown_key');
  });
});
