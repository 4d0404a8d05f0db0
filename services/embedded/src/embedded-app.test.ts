import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditorKey, createIngestKey } from '@phi-audit/collector';
import { isCheckpointError } from '@phi-audit/checkpoints';
import { generateNoteKey, openCheckpoint, parseVerifierKey, verifyInclusion, verifyLog } from '@phi-audit/ledger';
import { embeddedOrigin } from '@phi-audit/store-sqlite';
import { checkSqliteProofs } from '../../../test/harness/sqlite-oracle.js';
import { parseEmbeddedConfig } from './config.js';
import { createEmbeddedLogger, startEmbedded, type RunningEmbedded } from './main.js';

let dir: string;
let running: RunningEmbedded | undefined;
const keys = new Map<string, string>();
let auditorKey = '';
let seq = 0;

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return {
    eventId: `evt-${process.pid}-${seq}`,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    actor: { userId: `u${seq % 7}`, role: 'nurse' },
    patient: { id: `MRN${1000 + (seq % 50)}` },
    action: 'view',
    resource: { type: 'Patient', id: `r${seq}` },
    outcome: 'success',
    ...overrides,
  };
}

let printed = '';

async function start(env: Record<string, string> = {}): Promise<RunningEmbedded> {
  const config = parseEmbeddedConfig({ PORT: '0', PHI_AUDIT_DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  const out = new PassThrough();
  printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  running = await startEmbedded({ config, logger: createEmbeddedLogger('silent'), out });
  return running;
}

/** Polls until every log's latest checkpoint is at its head (signing follows the acknowledgement). */
async function checkpointsAtHeads(app: RunningEmbedded): Promise<void> {
  for (let i = 0; i < 200; i++) {
    let behind = 0;
    for (const head of await app.store.heads()) {
      if ((await app.store.latestCheckpoint(head.origin))?.size !== head.size) behind += 1;
    }
    if (behind === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('checkpoints did not reach the heads');
}

function ledgerGet(app: RunningEmbedded, url: string, bearer: string) {
  return app.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } });
}

function post(app: RunningEmbedded, tenant: string, events: unknown[]) {
  return app.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.get(tenant) ?? ''}` },
    payload: JSON.stringify(events),
  });
}

async function storedIds(app: RunningEmbedded, tenant: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const r of app.store.scan(embeddedOrigin(tenant))) ids.push(r.eventId);
  return ids;
}

async function verifyAll(app: RunningEmbedded): Promise<number> {
  let records = 0;
  for (const head of await app.store.heads()) {
    const v = await verifyLog({ origin: head.origin, records: app.store.scan(head.origin) });
    expect(v.failure).toBeUndefined();
    expect(v.head).toEqual(head);
    records += v.records;
  }
  return records;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phi-embedded-'));
  for (const tenant of ['clinic-a', 'clinic-b']) {
    const { key } = await createIngestKey({ file: join(dir, 'ingest-keys.json'), tenant, source: 'ehr' });
    keys.set(tenant, key);
  }
  auditorKey = (await createAuditorKey({ file: join(dir, 'ingest-keys.json') })).key;
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded ledger through the collector app', () => {
  it('group-commits concurrent requests: 200 single-event requests share far fewer transactions', async () => {
    const app = await start();
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => post(app, i % 2 === 0 ? 'clinic-a' : 'clinic-b', [event()])),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 200 }, () => 202));
    const stats = app.ledger.stats();
    console.info(`group commit: 200 requests → ${stats.sends} transactions`);
    expect(stats.publishes).toBe(200);
    expect(stats.events).toBe(200);
    expect(stats.sends).toBeLessThanOrEqual(20);
    const metrics = await app.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(`phi_audit_embedded_transactions_total{outcome="committed"} ${stats.sends}`);
    expect(await verifyAll(app)).toBe(200);
  });

  it('acknowledges a retried request without storing it twice, also within one commit group', async () => {
    const app = await start();
    const batch = [event(), event(), event()];
    expect((await post(app, 'clinic-a', batch)).statusCode).toBe(202);
    expect((await post(app, 'clinic-a', batch)).statusCode).toBe(202);
    const twin = [event()];
    const [a, b] = await Promise.all([post(app, 'clinic-a', twin), post(app, 'clinic-a', twin)]);
    expect([a?.statusCode, b?.statusCode]).toEqual([202, 202]);
    const ids = await storedIds(app, 'clinic-a');
    expect(ids).toEqual([...batch, ...twin].map((e) => e.eventId));
    expect(app.ledger.stats().duplicates).toBe(4);
    expect(await verifyAll(app)).toBe(4);
  });

  it('rejects a request with one bad event as a whole: 400 naming it, nothing stored', async () => {
    const app = await start();
    const batch = [event(), event({ action: 'peek' }), event()];
    const response = await post(app, 'clinic-a', batch);
    expect(response.statusCode).toBe(400);
    const body = response.json<{ error: { code: string; details: { index: number; path: string }[] } }>();
    expect(body.error.code).toBe('INGEST_INVALID_EVENT');
    expect(body.error.details[0]).toMatchObject({ index: 1, path: 'action' });
    expect(await app.store.heads()).toEqual([]);
    expect(app.ledger.stats().sends).toBe(0);
  });

  it('keeps one verifiable chain per tenant, continued across a restart', async () => {
    let app = await start();
    for (let i = 0; i < 5; i++) {
      expect((await post(app, 'clinic-a', [event(), event()])).statusCode).toBe(202);
      expect((await post(app, 'clinic-b', [event()])).statusCode).toBe(202);
    }
    await app.close();
    app = await start();
    expect(app.firstRun).toBe(false);
    expect((await post(app, 'clinic-a', [event()])).statusCode).toBe(202);
    const heads = await app.store.heads();
    expect(heads.map((h) => [h.origin, h.size]).sort()).toEqual([
      [embeddedOrigin('clinic-a'), 11],
      [embeddedOrigin('clinic-b'), 5],
    ]);
    expect(await verifyAll(app)).toBe(16);
    expect(app.store.lastSourceOffset()).toBe(15);
  });

  it('answers 507 when the storage quota is reached, stores nothing of that request, and recovers with more space', async () => {
    let app = await start({ PHI_AUDIT_MAX_DB_PAGES: '48' });
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let full = 0;
    for (let i = 0; i < 400 && full < 3; i++) {
      const batch = Array.from({ length: 10 }, () => event({ reason: 'x'.repeat(300) }));
      const response = await post(app, 'clinic-a', batch);
      if (response.statusCode === 202) acknowledged.push(...batch.map((e) => e.eventId as string));
      else {
        expect(response.statusCode).toBe(507);
        expect(response.json<{ error: { code: string } }>().error.code).toBe('INGEST_STORAGE_FULL');
        expect(response.headers['retry-after']).toBeDefined();
        refused.push(...batch.map((e) => e.eventId as string));
        full += 1;
      }
    }
    expect(full).toBe(3);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect((await app.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect(await storedIds(app, 'clinic-a')).toEqual(acknowledged);
    await app.close();

    app = await start({ PHI_AUDIT_MAX_DB_PAGES: '100000' });
    const more = [event(), event()];
    expect((await post(app, 'clinic-a', more)).statusCode).toBe(202);
    expect((await app.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const ids = await storedIds(app, 'clinic-a');
    expect(ids).toEqual([...acknowledged, ...more.map((e) => e.eventId as string)]);
    expect(ids.filter((id) => refused.includes(id))).toEqual([]);
    expect(await verifyAll(app)).toBe(ids.length);
  });

  it('keeps Merkle tiles and signed checkpoints of every log; a restart continues them', async () => {
    let app = await start({ CHECKPOINT_EVERY_RECORDS: '7', CHECKPOINT_INTERVAL_SECONDS: '3600' });
    expect(printed).toContain(join(dir, 'checkpoint-signing.key'));
    expect(printed).toContain(`${join(dir, 'checkpoint-signing.key')}.pub`);
    expect(printed).toContain(join(dir, 'checkpoints'));
    expect(printed).toContain('copy the verifier key and the exported checkpoints off this machine');
    expect(readFileSync(join(dir, 'checkpoint-signing.key'), 'utf8')).toMatch(/^PRIVATE\+KEY\+/);
    for (let i = 0; i < 6; i++) {
      expect((await post(app, 'clinic-a', [event(), event(), event()])).statusCode).toBe(202);
      expect((await post(app, 'clinic-b', [event()])).statusCode).toBe(202);
    }
    await app.close(); // flushes: the last checkpoint of each log is at its head
    const first = await checkSqliteProofs(dir, { complete: true });
    expect(first.problems).toEqual([]);
    expect(first.logs.map((l) => [l.origin, l.size, l.tileCoverage]).sort()).toEqual([
      [embeddedOrigin('clinic-a'), 18, 18],
      [embeddedOrigin('clinic-b'), 6, 6],
    ]);
    // clinic-a: signed at 9 (first group past 7) … and at 18 on close; clinic-b only on close.
    const a = first.logs.find((l) => l.origin === embeddedOrigin('clinic-a'))!;
    expect(a.checkpointSizes.length).toBeGreaterThanOrEqual(2);
    expect(a.checkpointSizes.at(-1)).toBe(18);

    app = await start({ CHECKPOINT_EVERY_RECORDS: '7', CHECKPOINT_INTERVAL_SECONDS: '3600' });
    expect(printed).not.toContain('a new access ledger was created');
    for (let i = 0; i < 300; i++) {
      expect((await post(app, 'clinic-a', [event()])).statusCode).toBe(202);
    }
    await app.close();
    const second = await checkSqliteProofs(dir, { complete: true });
    expect(second.problems).toEqual([]);
    const a2 = second.logs.find((l) => l.origin === embeddedOrigin('clinic-a'))!;
    // Past a full 256-leaf tile, continued from the tiles of the first run.
    expect([a2.size, a2.tileCoverage]).toEqual([318, 318]);
    expect(a2.checkpointSizes.slice(0, a.checkpointSizes.length)).toEqual(a.checkpointSizes);
    expect(a2.checkpointSizes.at(-1)).toBe(318);
  });

  it('serves the ledger API to auditor keys only; an inclusion proof verifies against the signed checkpoint', async () => {
    const app = await start({ CHECKPOINT_EVERY_RECORDS: '1' });
    const batch = Array.from({ length: 40 }, () => event());
    expect((await post(app, 'clinic-a', batch)).statusCode).toBe(202);
    expect((await post(app, 'clinic-b', [event()])).statusCode).toBe(202);
    await checkpointsAtHeads(app);

    expect((await app.app.inject({ method: 'GET', url: '/v1/ledger/logs' })).statusCode).toBe(401);
    expect([401, 403]).toContain((await ledgerGet(app, '/v1/ledger/logs', keys.get('clinic-a')!)).statusCode);
    const logs = await ledgerGet(app, '/v1/ledger/logs', auditorKey);
    expect(logs.statusCode).toBe(200);
    const origin = embeddedOrigin('clinic-a');
    const listed = logs.json<{ logs: { origin: string; size: number; checkpoint: { size: number } | null }[] }>();
    expect(listed.logs.find((l) => l.origin === origin)).toMatchObject({ size: 40, checkpoint: { size: 40 } });

    const log = encodeURIComponent(origin);
    const note = await ledgerGet(app, `/v1/ledger/checkpoint?log=${log}`, auditorKey);
    expect(note.statusCode).toBe(200);
    const verifier = parseVerifierKey(readFileSync(join(dir, 'checkpoint-signing.key.pub'), 'utf8'));
    const { checkpoint } = openCheckpoint(note.body, [verifier]);
    expect(checkpoint).toMatchObject({ origin, size: 40 });

    const stored = await app.store.recordsAt(origin, [23]);
    const proof = await ledgerGet(app, `/v1/ledger/inclusion?log=${log}&index=23`, auditorKey);
    expect(proof.statusCode).toBe(200);
    const body = proof.json<{ index: number; size: number; leafHash: string; proof: string[] }>();
    expect(body).toMatchObject({ index: 23, size: 40, leafHash: stored[0]?.leafHash });
    const input = {
      index: 23,
      size: checkpoint.size,
      leafHash: Buffer.from(body.leafHash, 'hex'),
      proof: body.proof.map((h) => Buffer.from(h, 'hex')),
      root: checkpoint.root,
    };
    expect(verifyInclusion(input)).toEqual({ ok: true });
    // The proof is bound to the leaf: another record's hash does not verify with it.
    const other = Buffer.from((await app.store.recordsAt(origin, [24]))[0]!.leafHash, 'hex');
    expect(verifyInclusion({ ...input, leafHash: other }).ok).toBe(false);
  });

  it('signs with CHECKPOINT_SIGNING_KEY when given (no key file created), and refuses a key file others can read', async () => {
    const { signerKey, verifierKey } = generateNoteKey('ops.example/phi-audit');
    const exportDir = join(dir, 'elsewhere');
    const app = await start({ CHECKPOINT_SIGNING_KEY: signerKey, CHECKPOINT_EXPORT_DIR: exportDir });
    expect(printed).toContain(verifierKey);
    expect(printed).not.toContain(signerKey);
    expect((await post(app, 'clinic-a', [event(), event()])).statusCode).toBe(202);
    await app.close();
    running = undefined;
    expect(existsSync(join(dir, 'checkpoint-signing.key'))).toBe(false);
    const proofs = await checkSqliteProofs(dir, { verifierKey, exportDir, complete: true });
    expect(proofs.problems).toEqual([]);
    expect(proofs.logs.map((l) => l.checkpointSizes)).toEqual([[2]]);

    const loose = join(dir, 'loose.key');
    writeFileSync(loose, signerKey, { mode: 0o644 });
    const refused = await start({ CHECKPOINT_SIGNING_KEY_FILE: loose }).catch((e: unknown) => e);
    expect(isCheckpointError(refused, 'CHECKPOINT_KEY_UNAVAILABLE')).toBe(true);
    expect((refused as Error).message).not.toContain(signerKey);
    // The data directory was released: a start with a usable key works.
    running = undefined;
    await start({ CHECKPOINT_SIGNING_KEY: signerKey });
  });
});
