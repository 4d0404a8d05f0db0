import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { canonicalJson, encodeLeaf, hashLeaf } from '@phi-audit/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { runLoad } from '../harness/load.js';
import { countRows } from '../harness/oracle.js';
import { runCli, waitFor } from '../harness/processes.js';
import { createSyntheticEvents } from '../harness/synthetic-events.js';

// Issue: changing one stored row (ALTER TABLE … UPDATE), deleting one, or inserting a forged
// one makes `verify` exit 1 and name the index. Each case runs on its own copy of a clean ledger.
const EVENTS = 300;

describe('tamper evidence on the ClickHouse ledger', () => {
  let stack: ClusterStack;
  let admin: ClickHouseClient;
  let origin: string;
  let copies = 0;

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
    await stack.writer.stop();
  });
  afterAll(async () => {
    await admin?.close();
    await stack?.close();
  });

  /** A fresh copy of the clean ledger in its own database. */
  async function copyLedger(): Promise<string> {
    copies += 1;
    const db = `${stack.database}_c${copies}`;
    await admin.command({ query: `CREATE DATABASE ${db}` });
    await admin.command({ query: `CREATE TABLE ${db}.access_log AS ${stack.database}.access_log` });
    await admin.command({ query: `INSERT INTO ${db}.access_log SELECT * FROM ${stack.database}.access_log` });
    return db;
  }

  /** ClickHouse 18.16 runs mutations asynchronously and has no mutations_sync: wait for them. */
  async function mutate(db: string, sql: string): Promise<void> {
    await admin.command({ query: sql });
    await waitFor('mutation', async () => {
      const rows = await (
        await admin.query({
          query: `SELECT toString(count()) AS n FROM system.mutations WHERE database = '${db}' AND is_done = 0`,
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>();
      return rows[0]?.n === '0';
    });
  }

  async function verify(db: string): Promise<{ code: number | null; output: string }> {
    const result = await runCli(['verify', '--clickhouse', stack.clickhouseUrl, '--database', db], stack.env);
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    return result;
  }

  it('passes on the clean ledger', async () => {
    const result = await verify(await copyLedger());
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(origin);
  });

  it('names the index of a row whose event content was updated', async () => {
    const db = await copyLedger();
    const [target] = await (
      await admin.query({
        query: `SELECT toString(min(idx)) AS target FROM ${db}.access_log WHERE idx > 20 AND action = 'view'`,
        format: 'JSONEachRow',
      })
    ).json<{ target: string }>();
    const idx = Number(target!.target);
    await mutate(
      db,
      `ALTER TABLE ${db}.access_log UPDATE event_json = replaceOne(event_json, '"action":"view"', '"action":"print"') WHERE idx = ${idx}`,
    );
    const result = await verify(db);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(new RegExp(`index ${idx}\\b`));
  });

  it('names the index of a row whose query column was updated', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log UPDATE workstation = 'ws-forged' WHERE idx = 17`);
    const result = await verify(db);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/index 17\b/);
  });

  it('names the index of a deleted middle row', async () => {
    const db = await copyLedger();
    await mutate(db, `ALTER TABLE ${db}.access_log DELETE WHERE idx = 100`);
    const result = await verify(db);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/index 100\b/);
  });

  it('names the index of a forged row inserted with a recomputed leaf hash', async () => {
    const db = await copyLedger();
    const rows = await (
      await admin.query({ query: `SELECT * FROM ${db}.access_log WHERE idx = 150`, format: 'JSONEachRow' })
    ).json<Record<string, unknown>>();
    const original = rows[0]!;
    // A forger copies a real row, points it at another patient and recomputes its leaf hash;
    // without the chain of every following record it cannot make the chain agree.
    const event = JSON.parse(original.event_json as string) as { patient: { id: string }; eventId: string };
    event.patient.id = 'MRN-FORGED';
    event.eventId = 'forged-1';
    const eventJson = canonicalJson(event);
    const forged: Record<string, unknown> = {
      ...original,
      event_id: 'forged-1',
      patient_id: 'MRN-FORGED',
      event_json: eventJson,
    };
    forged.leaf_hash = hashLeaf(
      encodeLeaf({ origin, index: 150, sourceOffset: Number(original.source_offset), eventId: 'forged-1', eventJson }),
    ).toString('hex');
    await admin.insert({ table: `${db}.access_log`, values: [forged], format: 'JSONEachRow' });
    const result = await verify(db);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/index 150\b/);
  });

  it('names the index of a forged row appended at the tail with a wrong chain', async () => {
    const db = await copyLedger();
    const rows = await (
      await admin.query({ query: `SELECT * FROM ${db}.access_log WHERE idx = ${EVENTS - 1}`, format: 'JSONEachRow' })
    ).json<Record<string, unknown>>();
    const last = rows[0]!;
    const forged = { ...last, idx: EVENTS, source_offset: Number(last.source_offset) + 1, event_id: 'forged-tail' };
    await admin.insert({ table: `${db}.access_log`, values: [forged], format: 'JSONEachRow' });
    const result = await verify(db);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(new RegExp(`index ${EVENTS}\\b`));
  });
});
