import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { exportFileName } from '@phi-audit/checkpoints';
import {
  canonicalJson,
  createTileBuilder,
  encodeLeaf,
  generateNoteKey,
  GENESIS_CHAIN,
  hashLeaf,
  leafHashOf,
  nextChain,
  parseSignerKey,
  rootOfLeafHashes,
  signCheckpoint,
} from '@phi-audit/ledger';
import { quoteString } from '@phi-audit/store-clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { runLoad } from '../harness/load.js';
import { countRows } from '../harness/oracle.js';
import { runCli, waitFor } from '../harness/processes.js';
import { createSyntheticEvents } from '../harness/synthetic-events.js';

// TESTING.md tamper matrix on the ClickHouse ledger: each attacker write (ALTER TABLE
// mutations, raw inserts, a rewritten log, forged or altered checkpoints, a changed tile) makes
// `phi-audit verify` exit 1 and name the index. Each case runs on its own copy of one clean
// ledger (records, tiles and checkpoints) written by the real collector → Kafka → writer.
const EVENTS = 300;
/** ClickHouse JSONEachRow output quotes 64-bit integers; inserts take them as numbers. */
const UINT_COLUMNS = new Set(['idx', 'source_offset', 'occurred_ms', 'received_ms', 'size', 'signed_ms']);

type Row = Record<string, unknown>;

describe('tamper evidence on the ClickHouse ledger', () => {
  let stack: ClusterStack;
  let admin: ClickHouseClient;
  let origin: string;
  let copies = 0;
  const emptyExportDir = mkdtempSync(join(tmpdir(), 'phi-audit-no-export-'));

  beforeAll(async () => {
    stack = await startClusterStack({ name: 'tamper', tenants: ['clinic-a'], partitions: 1 });
    admin = createClient({ url: stack.clickhouseUrl });
    origin = `phi-audit/${stack.topic}/0`;
    const generator = createSyntheticEvents({ seed: 3, runId: `tamper${Date.now()}`, tenants: ['clinic-a'] });
    const batches = Array.from({ length: EVENTS / 50 }, () => ({
      tenant: 'clinic-a',
      events: Array.from({ length: 50 }, () => generator.next('clinic-a')),
    }));
    const load = await runLoad({ url: stack.collectorUrl, keys: stack.keys, batches, concurrency: 2 });
    expect(load.acknowledged.size).toBe(EVENTS);
    await waitFor('ledger rows', async () => (await countRows(stack.clickhouseUrl, stack.database)) >= EVENTS);
    // A graceful stop signs and exports every log at its full size.
    expect(await stack.writer.stop()).toBe(0);
    const exported = join(stack.exportDir, exportFileName(origin));
    expect(existsSync(exported)).toBe(true);
    expect(readFileSync(exported, 'utf8')).toContain(`\n${EVENTS}\n`);
  }, 180_000);
  afterAll(async () => {
    await admin?.close();
    await stack?.close();
    rmSync(emptyExportDir, { recursive: true, force: true });
  });

  async function select<T>(query: string): Promise<T[]> {
    return (await admin.query({ query, format: 'JSONEachRow' })).json<T>();
  }

  async function insert(table: string, rows: Row[]): Promise<void> {
    const values = rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, UINT_COLUMNS.has(k) ? Number(v) : v])),
    );
    await admin.insert({ table, values, format: 'JSONEachRow' });
  }

  /** A fresh copy of the clean ledger (records, tiles, checkpoints) in its own database. */
  async function copyLedger(): Promise<string> {
    copies += 1;
    const db = `${stack.database}_c${copies}`;
    await admin.command({ query: `CREATE DATABASE ${db}` });
    for (const table of ['access_log', 'merkle_tiles', 'checkpoints']) {
      await admin.command({ query: `CREATE TABLE ${db}.${table} AS ${stack.database}.${table}` });
      await admin.command({ query: `INSERT INTO ${db}.${table} SELECT * FROM ${stack.database}.${table}` });
    }
    return db;
  }

  /** ClickHouse 18.16 runs mutations asynchronously and has no mutations_sync: wait for them. */
  async function mutate(db: string, sql: string): Promise<void> {
    await admin.command({ query: sql });
    await waitFor('mutation', async () => {
      const rows = await select<{ n: string }>(
        `SELECT toString(count()) AS n FROM system.mutations WHERE database = '${db}' AND is_done = 0`,
      );
      return rows[0]?.n === '0';
    });
  }

  /** `phi-audit verify` on a copy (with the stack's verifier key and export directory), then drops it. */
  async function verify(db: string, extra: string[] = []): Promise<{ code: number | null; output: string }> {
    const result = await runCli(['verify', '--clickhouse', stack.clickhouseUrl, '--database', db, ...extra], stack.env);
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    return result;
  }

  function expectFailedAt(result: { code: number | null; output: string }, index: number, kind?: string): void {
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(new RegExp(`FAILED at index ${index}: ${kind ?? '\\w+'}: `));
  }

  const logIs = () => `log = ${quoteString(origin)}`;

  it('passes on the clean ledger, with its checkpoints and tiles', async () => {
    const result = await verify(await copyLedger());
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(
      new RegExp(`${origin}  ${EVENTS} records  \\d+ checkpoints? \\(latest size ${EVENTS}\\)  OK`),
    );
    expect(result.output).not.toContain('note:');
  });

  it('exit 2 when the store holds checkpoints but no verifier key is given', async () => {
    const db = await copyLedger();
    const result = await runCli(['verify', '--clickhouse', stack.clickhouseUrl, '--database', db], {
      ...stack.env,
      PHI_AUDIT_VERIFIER_KEYS: '',
    });
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    expect(result.code, result.output).toBe(2);
    expect(result.output).toContain('no verifier key is available');
  });

  it('names the index of a row whose event content was updated', async () => {
    const db = await copyLedger();
    const [target] = await select<{ target: string }>(
      `SELECT toString(min(idx)) AS target FROM ${db}.access_log WHERE idx > 20 AND action = 'view'`,
    );
    const idx = Number(target!.target);
    await mutate(
      db,
      `ALTER TABLE ${db}.access_log UPDATE event_json = replaceOne(event_json, '"action":"view"', '"action":"print"') WHERE idx = ${idx}`,
    );
    expectFailedAt(await verify(db), idx, 'leaf_hash_mismatch');
  });

  it('names the index of a row whose query column was updated', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log UPDATE workstation = 'ws-forged' WHERE idx = 17`);
    expectFailedAt(await verify(db), 17, 'column_mismatch');
  });

  it('names the index of a deleted middle row', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE idx = 100`);
    expectFailedAt(await verify(db), 100, 'index_gap');
  });

  it('names the lower index of two swapped rows', async () => {
    const db = await copyLedger();
    const rows = await select<Row>(`SELECT * FROM ${db}.access_log WHERE idx IN (40, 60)`);
    expect(rows).toHaveLength(2);
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE idx IN (40, 60)`);
    await insert(
      `${db}.access_log`,
      rows.map((r) => ({ ...r, idx: Number(r.idx) === 40 ? 60 : 40 })),
    );
    expectFailedAt(await verify(db), 40, 'leaf_hash_mismatch');
  });

  it('names the index of a duplicated row', async () => {
    const db = await copyLedger();
    await insert(`${db}.access_log`, await select<Row>(`SELECT * FROM ${db}.access_log WHERE idx = 77`));
    expectFailedAt(await verify(db), 77, 'index_duplicate');
  });

  it('names the index of a forged row inserted with a recomputed leaf hash', async () => {
    const db = await copyLedger();
    const [original] = await select<Row>(`SELECT * FROM ${db}.access_log WHERE idx = 150`);
    // A forger copies a real row, points it at another patient and recomputes its leaf hash;
    // without the chain of every following record it cannot make the chain agree.
    const event = JSON.parse(original!.event_json as string) as { patient: { id: string }; eventId: string };
    event.patient.id = 'MRN-FORGED';
    event.eventId = 'forged-1';
    const eventJson = canonicalJson(event);
    const forged: Row = { ...original, event_id: 'forged-1', patient_id: 'MRN-FORGED', event_json: eventJson };
    forged.leaf_hash = hashLeaf(
      encodeLeaf({ origin, index: 150, sourceOffset: Number(original!.source_offset), eventId: 'forged-1', eventJson }),
    ).toString('hex');
    await insert(`${db}.access_log`, [forged]);
    expectFailedAt(await verify(db), 150);
  });

  it('names the index of a forged row appended at the tail with a wrong chain', async () => {
    const db = await copyLedger();
    const [last] = await select<Row>(`SELECT * FROM ${db}.access_log WHERE idx = ${EVENTS - 1}`);
    const forged = { ...last, idx: EVENTS, source_offset: Number(last!.source_offset) + 1, event_id: 'forged-tail' };
    await insert(`${db}.access_log`, [forged]);
    expectFailedAt(await verify(db), EVENTS);
  });

  it('a deleted tail is caught against the checkpoint in the store', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE idx >= ${EVENTS - 5}`);
    const result = await verify(db, ['--checkpoints', emptyExportDir]);
    expectFailedAt(result, EVENTS - 5, 'log_truncated');
    expect(result.output).toContain(`records ${EVENTS - 5}…${EVENTS - 1} are missing`);
  });

  it('a deleted tail with the store checkpoints deleted too is caught against the exported checkpoint', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE idx >= ${EVENTS - 5}`);
    await mutate(db, `ALTER TABLE ${db}.checkpoints DELETE WHERE ${logIs()}`);
    const result = await verify(db);
    expectFailedAt(result, EVENTS - 5, 'log_truncated');
    expect(result.output).toContain(join(stack.exportDir, exportFileName(origin)));
  });

  it('a log whose rows were all deleted still fails, at index 0', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE ${logIs()}`);
    await mutate(db, `ALTER TABLE ${db}.checkpoints DELETE WHERE ${logIs()}`);
    const result = await verify(db);
    expectFailedAt(result, 0, 'log_truncated');
    expect(result.output).toContain(`${origin}  0 records`);
  });

  it('a log rewritten consistently without the signing key (hashes, chains and tiles) is caught by the checkpoints at 0', async () => {
    const db = await copyLedger();
    const rows = await select<Row>(`SELECT * FROM ${db}.access_log WHERE ${logIs()} ORDER BY idx`);
    expect(rows).toHaveLength(EVENTS);
    let chain = GENESIS_CHAIN;
    const tiles = createTileBuilder({ size: 0, rightEdge: [] });
    const forged = rows.map((r) => {
      const event = JSON.parse(r.event_json as string) as { patient?: { id: string } };
      const eventJson = canonicalJson(
        event.patient === undefined ? event : { ...event, patient: { id: 'MRN-REWRITTEN' } },
      );
      const leafHash = leafHashOf({
        origin,
        index: Number(r.idx),
        sourceOffset: Number(r.source_offset),
        eventId: r.event_id as string,
        eventJson,
      });
      chain = nextChain(chain, leafHash);
      tiles.append([Buffer.from(leafHash, 'hex')]);
      return {
        ...r,
        event_json: eventJson,
        patient_id: event.patient === undefined ? r.patient_id : 'MRN-REWRITTEN',
        leaf_hash: leafHash,
        chain,
      };
    });
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE ${logIs()}`);
    await mutate(db, `ALTER TABLE ${db}.merkle_tiles DELETE WHERE ${logIs()}`);
    await insert(`${db}.access_log`, forged);
    await insert(
      `${db}.merkle_tiles`,
      tiles.takeChanged().map((t) => ({
        log: origin,
        level: t.level,
        tile_index: t.index,
        width: t.hashes.length / 32,
        hashes: t.hashes.toString('hex'),
      })),
    );
    const result = await verify(db);
    expectFailedAt(result, 0, 'checkpoint_root_mismatch');
    expect(result.output).not.toContain('MRN-REWRITTEN');
  });

  it('names the size of an altered checkpoint note', async () => {
    const db = await copyLedger();
    const [latest] = await select<{ note: string; size: string }>(
      `SELECT note, toString(size) AS size FROM ${db}.checkpoints WHERE ${logIs()} ORDER BY size DESC LIMIT 1`,
    );
    // Another root in the signed text: the signature no longer verifies.
    const altered = latest!.note.replace(
      /^(.*\n\d+\n)(.)/,
      (_m, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`,
    );
    expect(altered).not.toBe(latest!.note);
    await mutate(
      db,
      `ALTER TABLE ${db}.checkpoints UPDATE note = ${quoteString(altered)} WHERE ${logIs()} AND size = ${latest!.size}`,
    );
    expectFailedAt(await verify(db, ['--checkpoints', emptyExportDir]), Number(latest!.size), 'checkpoint_invalid');
  });

  it('names the size of a checkpoint signed by an unknown key', async () => {
    const db = await copyLedger();
    const rows = await select<{ leaf_hash: string }>(
      `SELECT leaf_hash FROM ${db}.access_log WHERE ${logIs()} AND idx < 150 ORDER BY idx`,
    );
    const root = rootOfLeafHashes(rows.map((r) => Buffer.from(r.leaf_hash, 'hex')));
    const forger = parseSignerKey(generateNoteKey('phi-audit.attacker').signerKey);
    const note = signCheckpoint({ origin, size: 150, root }, forger);
    await insert(`${db}.checkpoints`, [
      { log: origin, size: 150, root: root.toString('hex'), note, signed_ms: Date.now() },
    ]);
    expectFailedAt(await verify(db), 150, 'checkpoint_unknown_key');
  });

  it('names the first record of a tampered Merkle tile', async () => {
    const db = await copyLedger();
    const [tile] = await select<{ hashes: string; width: number | string }>(
      `SELECT hashes, width FROM ${db}.merkle_tiles WHERE ${logIs()} AND level = 0 AND tile_index = 1 ORDER BY width DESC LIMIT 1`,
    );
    expect(tile).toBeDefined();
    const hashes = Buffer.from(tile!.hashes, 'hex');
    hashes[33] = hashes[33]! ^ 0xff;
    await mutate(
      db,
      `ALTER TABLE ${db}.merkle_tiles UPDATE hashes = ${quoteString(hashes.toString('hex'))} WHERE ${logIs()} AND level = 0 AND tile_index = 1 AND width = ${Number(tile!.width)}`,
    );
    expectFailedAt(await verify(db), 256, 'tile_mismatch');
  });
});
