import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ensureTopic, originFor } from '@phi-audit/bus-kafka';
import {
  generateNoteKey,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  rootOfLeafHashes,
  verifyLog,
} from '@phi-audit/ledger';
import { createClickHouseLedgerStore, type ClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerWriter, type LedgerWriter } from './ledger-writer.js';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const clickhouseUrl = process.env.CLICKHOUSE_URL ?? '';
const run = (brokers.length > 0 && clickhouseUrl !== '') || process.env.CI === 'true';
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const database = `lw_outage_${randomBytes(6).toString('hex')}`;
const keys = generateNoteKey('lw-outage-test');

type Mode = 'up' | 'down' | 'lose-insert-replies';

/**
 * A TCP proxy in front of ClickHouse. `down` refuses every connection (server stopped);
 * `lose-insert-replies` forwards INSERTs to the server, which stores them, but cuts the connection
 * before the reply arrives: the writer cannot know that its append landed.
 */
class FlakyProxy {
  mode: Mode = 'down';
  lostReplies = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      if (this.mode === 'down') {
        client.destroy();
        return;
      }
      const upstream = connect(target);
      this.#sockets.add(upstream);
      upstream.on('close', () => this.#sockets.delete(upstream));
      let insertPending = false;
      client.on('data', (chunk: Buffer) => {
        const head = chunk.subarray(0, 2048).toString('latin1');
        if (/^(GET|POST) /.test(head)) insertPending = /query=INSERT/i.test(head);
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (insertPending && this.mode === 'lose-insert-replies') {
          this.lostReplies += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as { port: number }).port)),
    );
  }

  /** Changes mode and drops open connections, as a restarting server would. */
  set(mode: Mode): void {
    this.mode = mode;
    for (const s of this.#sockets) s.destroy();
  }

  close(): Promise<void> {
    this.set('down');
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(run)('ledger writer while ClickHouse is down (real Kafka, real ClickHouse)', () => {
  const kafka = new Kafka({
    clientId: 'lw-outage-test',
    brokers: brokers.length ? brokers : ['127.0.0.1:1'],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let direct: ClickHouseLedgerStore;
  let viaProxy: ClickHouseLedgerStore;
  let proxy: FlakyProxy;
  let writer: LedgerWriter | undefined;

  beforeAll(async () => {
    direct = createClickHouseLedgerStore({ url: clickhouseUrl, database });
    await direct.migrate();
    const target = new URL(clickhouseUrl);
    proxy = new FlakyProxy({ host: target.hostname, port: Number(target.port || 8123) });
    const port = await proxy.listen();
    const proxied = new URL(clickhouseUrl);
    proxied.port = String(port);
    viaProxy = createClickHouseLedgerStore({ url: proxied.href.replace(/\/$/, ''), database, requestTimeoutMs: 5_000 });
    await admin.connect();
  });
  afterAll(async () => {
    await writer?.close();
    await viaProxy?.close();
    await proxy?.close();
    await admin.disconnect();
    const u = new URL(clickhouseUrl);
    const auth = Buffer.from(
      `${decodeURIComponent(u.username) || 'default'}:${decodeURIComponent(u.password)}`,
    ).toString('base64');
    await fetch(`${u.protocol}//${u.host}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${auth}` },
      body: `DROP DATABASE IF EXISTS ${database}`,
    });
    await direct?.close();
  });

  it('commits nothing while the store is down, and after it returns stores everything exactly once (even appends whose reply was lost)', async () => {
    const tag = randomUUID().slice(0, 8);
    const topic = `lw-outage-${tag}`;
    const groupId = `lw-outage-${tag}`;
    await ensureTopic({ brokers, topic, partitions: 2 });
    const N = 400;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const event = (i: number) => ({
      eventId: `${tag}-${i}`,
      tenant: `t-${tag}`,
      occurredAt: 1_700_000_000_000 + i,
      receivedAt: 1_700_000_000_000 + i,
      source: { system: 'ehr' },
      actor: { userId: `u${i % 5}` },
      patient: { id: `p${i % 11}` },
      action: 'view',
      resource: { type: 'Patient' },
      outcome: 'success',
    });
    const send = (from: number, to: number) =>
      producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: to - from }, (_, k) => ({
          partition: (from + k) % 2,
          key: null,
          value: JSON.stringify(event(from + k)),
        })),
      });
    await send(0, N / 2);

    writer = createLedgerWriter({
      brokers,
      topic,
      groupId,
      store: viaProxy,
      logger,
      minBytes: 1,
      maxWaitTimeInMs: 50,
      retryInitialMs: 50,
      retryMaxMs: 300,
      processMetrics: false,
      checkpoints: { signer: parseSignerKey(keys.signerKey), policy: { everyRecords: 50, intervalMs: 500 } },
    });
    await writer.start();
    const failed = async () =>
      (await writer!.registry.getSingleMetric('phi_audit_writer_batches_total')!.get()).values.find(
        (v) => v.labels.outcome === 'failed',
      )?.value ?? 0;
    await until('the writer to hit the outage', async () => (await failed()) >= 4);
    await new Promise((r) => setTimeout(r, 1_000));
    const committed = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => Number(p.offset));
    expect(await committed()).toEqual([-1, -1]);
    expect(await direct.logs()).toEqual([]);

    // The server comes back but the replies to inserts are lost: rows land, the writer sees failures.
    proxy.set('lose-insert-replies');
    await until('an insert whose reply is lost', () => proxy.lostReplies >= 1);
    await send(N / 2, N);
    await new Promise((r) => setTimeout(r, 1_000));
    proxy.set('up');
    await until('the writer to catch up', async () => (await writer!.lag()).every((l) => l.lag === 0));

    for (const p of [0, 1]) {
      const origin = originFor(topic, p);
      const ids: string[] = [];
      for await (const r of direct.scan(origin)) ids.push(r.eventId);
      expect(ids).toHaveLength(N / 2);
      expect(new Set(ids).size).toBe(N / 2);
      const v = await verifyLog({ origin, records: direct.scan(origin) });
      expect(v.ok, JSON.stringify(v.failure)).toBe(true);
    }
    expect(proxy.lostReplies).toBeGreaterThanOrEqual(1);
    expect(await committed()).toEqual([N / 2, N / 2]);
    // Inserts whose reply was lost left records without tiles: repaired on reload, and the final
    // checkpoints (signed at close) state the roots of the stored leaves.
    await writer.close();
    const verifier = parseVerifierKey(keys.verifierKey);
    for (const p of [0, 1]) {
      const origin = originFor(topic, p);
      expect(await direct.tileCoverage(origin)).toBe(N / 2);
      const leaves: Buffer[] = [];
      for await (const r of direct.scan(origin)) leaves.push(Buffer.from(r.leafHash, 'hex'));
      const latest = await direct.latestCheckpoint(origin);
      expect(openCheckpoint(latest!.note, [verifier]).checkpoint).toEqual({
        origin,
        size: N / 2,
        root: rootOfLeafHashes(leaves),
      });
    }
    await producer.disconnect();
  });
});
