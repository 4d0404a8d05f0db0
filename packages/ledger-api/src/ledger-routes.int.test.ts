import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChainBuilder,
  createTileBuilder,
  emptyHead,
  generateNoteKey,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type LedgerStore,
  type LogTile,
} from '@phi-audit/ledger';
import { sampleEvent } from '../../ledger/src/sample-event.js';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { createSqliteLedgerStore } from '@phi-audit/store-sqlite';
import {
  adminClient,
  adminCommand,
  clickHouseUrl,
  uniqueDatabase,
} from '../../store-clickhouse/src/testing/clickhouse-test-database.js';
import { registerLedgerRoutes } from './ledger-routes.js';

const LOG = 'phi-audit/embedded/clinic-a';
const OTHER = 'phi-audit/embedded/clinic-b';
const SIZE = 700;
/** Checkpoints signed along the way: across tile boundaries (256) and at odd sizes. */
const CHECKPOINT_SIZES = [1, 100, 256, 257, 513, SIZE];
const AUDITOR = 'auditor-token';
const keys = generateNoteKey('test.example/phi-audit');
const signer = parseSignerKey(keys.signerKey);
const verifier = parseVerifierKey(keys.verifierKey);

/** Fills `store` with one log of SIZE records (tiles written with the records) and signed checkpoints. */
async function populate(store: LedgerStore): Promise<void> {
  const chain = createChainBuilder(emptyHead(LOG));
  const tiles = createTileBuilder({ size: 0, rightEdge: [] });
  let next = 0;
  for (const until of CHECKPOINT_SIZES) {
    const records = [];
    for (; next < until; next++) {
      const record = chain.append({ sourceOffset: next, event: sampleEvent(next) });
      tiles.append([Buffer.from(record.leafHash, 'hex')]);
      records.push(record);
    }
    const changed: LogTile[] = tiles.takeChanged().map((t) => ({ ...t, origin: LOG }));
    await store.append(records, changed);
    const note = signCheckpoint({ origin: LOG, size: until, root: tiles.root() }, signer);
    await store.putCheckpoint({
      origin: LOG,
      size: until,
      rootHex: tiles.root().toString('hex'),
      note,
      signedAt: 1_800_000_000_000 + until,
    });
  }
  // A second log with records but no checkpoint yet.
  const other = createChainBuilder(emptyHead(OTHER));
  await store.append([other.append({ sourceOffset: 10_000, event: sampleEvent(10_000, { tenant: 'clinic-b' }) })]);
}

async function appFor(store: LedgerStore): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await registerLedgerRoutes(app, {
    store,
    authenticate: (bearer) => (bearer === AUDITOR ? { keyId: 'k-auditor' } : undefined),
  });
  await app.ready();
  return app;
}

/** GET as the auditor, as `token`, or (null) without credentials. */
const get = (app: FastifyInstance, url: string, token: string | null = AUDITOR) =>
  app.inject({ method: 'GET', url, headers: token === null ? {} : { authorization: `Bearer ${token}` } });

const rootOfNote = (note: string): Buffer => openCheckpoint(note, [verifier]).checkpoint.root;

interface Backend {
  name: string;
  open(): Promise<{ store: LedgerStore; close(): Promise<void>; tamperTile(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ledger-api-'));
      const store = createSqliteLedgerStore({ file: join(dir, 'ledger.sqlite') });
      return {
        store,
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
        async tamperTile() {
          // A forged, wider level-0 tile: the widest version wins, so proofs now read it.
          const [tile] = await store.readTiles(LOG, [{ level: 0, index: 2 }]);
          if (tile === undefined) throw new Error('tile missing');
          const hashes = Buffer.concat([tile.hashes, Buffer.alloc(32, 7)]);
          hashes[0] = (hashes[0] ?? 0) ^ 1;
          await store.putTiles([{ origin: LOG, level: 0, index: 2, hashes }]);
        },
      };
    },
  },
];
const chUrl = clickHouseUrl();
if (chUrl !== undefined) {
  backends.push({
    name: 'ClickHouse',
    async open() {
      const database = uniqueDatabase('ledger_api');
      const admin = adminClient(chUrl);
      await adminCommand(admin, `CREATE DATABASE ${database}`);
      const store = createClickHouseLedgerStore({ url: chUrl, database });
      await store.migrate();
      return {
        store,
        async close() {
          await store.close();
          await adminCommand(admin, `DROP DATABASE IF EXISTS ${database}`);
          await admin.close();
        },
        async tamperTile() {
          const [tile] = await store.readTiles(LOG, [{ level: 0, index: 2 }]);
          if (tile === undefined) throw new Error('tile missing');
          const hashes = Buffer.concat([tile.hashes, Buffer.alloc(32, 7)]);
          hashes[0] = (hashes[0] ?? 0) ^ 1;
          await store.putTiles([{ origin: LOG, level: 0, index: 2, hashes }]);
        },
      };
    },
  });
}

describe.each(backends)('ledger API on $name', (backend) => {
  let opened: Awaited<ReturnType<Backend['open']>>;
  let app: FastifyInstance;

  beforeAll(async () => {
    opened = await backend.open();
    await populate(opened.store);
    app = await appFor(opened.store);
  });
  afterAll(async () => {
    await app?.close();
    await opened?.close();
  });

  it('lists logs with sizes and latest checkpoints', async () => {
    const res = await get(app, '/v1/ledger/logs');
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      logs: { origin: string; size: number; checkpoint: { size: number; root: string } | null }[];
    }>();
    expect(body.logs.map((l) => [l.origin, l.size, l.checkpoint?.size ?? null])).toEqual([
      [LOG, SIZE, SIZE],
      [OTHER, 1, null],
    ]);
    expect(res.body).not.toContain('evt-');
  });

  it('serves the latest checkpoint as a signed note that opens with the verifier key', async () => {
    const res = await get(app, `/v1/ledger/checkpoint?log=${encodeURIComponent(LOG)}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(openCheckpoint(res.body, [verifier]).checkpoint).toMatchObject({ origin: LOG, size: SIZE });
  });

  it('serves inclusion proofs for every index at every checkpointed size, each verifying', async () => {
    for (const size of CHECKPOINT_SIZES) {
      const indexes = size <= 20 ? [...Array(size).keys()] : [0, 1, 255, 256, size - 1, Math.floor(size / 3)];
      for (const index of indexes.filter((i) => i < size)) {
        const res = await get(app, `/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=${index}&size=${size}`);
        expect(res.statusCode, `index ${index} size ${size}: ${res.body}`).toBe(200);
        const body = res.json<{ leafHash: string; proof: string[]; checkpoint: string; size: number }>();
        expect(body.size).toBe(size);
        const check = verifyInclusion({
          index,
          size,
          leafHash: Buffer.from(body.leafHash, 'hex'),
          proof: body.proof.map((h) => Buffer.from(h, 'hex')),
          root: rootOfNote(body.checkpoint),
        });
        expect(check).toEqual({ ok: true });
      }
    }
  });

  it('serves consistency proofs between every pair of checkpoints, each verifying', async () => {
    const notes = new Map<number, string>();
    for (const size of CHECKPOINT_SIZES) {
      const res = await get(app, `/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=0&size=${size}`);
      notes.set(size, res.json<{ checkpoint: string }>().checkpoint);
    }
    for (const from of CHECKPOINT_SIZES) {
      for (const to of CHECKPOINT_SIZES.filter((s) => s >= from)) {
        const res = await get(app, `/v1/ledger/consistency?log=${encodeURIComponent(LOG)}&from=${from}&to=${to}`);
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json<{ proof: string[] }>();
        const check = verifyConsistency({
          size1: from,
          size2: to,
          root1: rootOfNote(notes.get(from) ?? ''),
          root2: rootOfNote(notes.get(to) ?? ''),
          proof: body.proof.map((h) => Buffer.from(h, 'hex')),
        });
        expect(check, `${from} → ${to}`).toEqual({ ok: true });
      }
    }
  });

  it('requires an auditor key', async () => {
    const none = await get(app, '/v1/ledger/logs', null);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const bad = await get(app, '/v1/ledger/logs', 'phia_0000000000000000_notakey');
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ error: 'LEDGER_API_UNAUTHENTICATED' });
  });

  it.each([
    ['/v1/ledger/inclusion?index=1', 400, /log is required/],
    [`/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=-1`, 400, /index must be a non-negative whole number/],
    [`/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=01`, 400, /index/],
    [`/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=1&size=1e3`, 400, /size/],
    [`/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=1&extra=1`, 400, /unknown query parameter extra/],
    ['/v1/ledger/inclusion?log=nope&index=0', 404, /no log named "nope"/],
    [`/v1/ledger/checkpoint?log=${encodeURIComponent(OTHER)}`, 404, /no signed checkpoint yet/],
    [`/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=${SIZE}`, 404, /not below size/],
    [`/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=0&size=${SIZE + 1}`, 409, /beyond the latest/],
    [
      `/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=0&size=300`,
      409,
      /no signed checkpoint .* has size 300/,
    ],
    [`/v1/ledger/consistency?log=${encodeURIComponent(LOG)}&from=257&to=256`, 404, /greater than/],
  ])('GET %s → %i', async (url, status, message) => {
    const res = await get(app, url);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json<{ message: string }>().message).toMatch(message);
  });

  it('refuses to serve a proof that does not verify (tampered tile)', async () => {
    await opened.tamperTile();
    const res = await get(app, `/v1/ledger/inclusion?log=${encodeURIComponent(LOG)}&index=600&size=${SIZE}`);
    expect(res.statusCode, res.body).toBe(500);
    expect(res.json()).toMatchObject({ error: 'LEDGER_PROOF_INVALID' });
  });
});
