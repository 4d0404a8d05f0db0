import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestKey } from '@phi-audit/collector';
import { verifyLog } from '@phi-audit/ledger';
import { embeddedOrigin } from '@phi-audit/store-sqlite';
import { parseEmbeddedConfig } from './config.js';
import { createEmbeddedLogger, startEmbedded, type RunningEmbedded } from './main.js';

let dir: string;
let running: RunningEmbedded | undefined;
const keys = new Map<string, string>();
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

async function start(env: Record<string, string> = {}): Promise<RunningEmbedded> {
  const config = parseEmbeddedConfig({ PORT: '0', PHI_AUDIT_DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  running = await startEmbedded({ config, logger: createEmbeddedLogger('silent'), out: new PassThrough() });
  return running;
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
});
