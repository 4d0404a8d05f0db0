import { randomUUID } from 'node:crypto';
import { ensureTopic, originFor } from '@phi-audit/bus-kafka';
import { createChainBuilder, emptyHead, verifyLog, type StoredRecord } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerWriter } from './ledger-writer.js';
import { createWriterFixture } from './testing/writer-fixture.js';
import { REJECTED_HEADERS, rejectedTopicOf } from './rejected-sink.js';

const fx = createWriterFixture('lw_int');
const { run, brokers, kafka, admin, producer, caughtUp, metric, scanAll, until } = fx;

/** A valid event; tenant/user/patient vary so the logs mix tenants like a real topic. */
function eventOf(tag: string, i: number, tenants: readonly string[]): AccessEvent {
  return {
    eventId: `${tag}-${i}`,
    tenant: tenants[i % tenants.length]!,
    occurredAt: 1_700_000_000_000 + i,
    receivedAt: 1_700_000_000_500 + i,
    source: { system: 'ehr', ...(i % 4 === 0 ? { site: 'north' } : {}) },
    actor: { userId: `u${i % 7}`, ...(i % 3 === 0 ? { role: 'nurse', name: `Ünïcode ${i} "q" \\` } : {}) },
    patient: { id: `p${i % 13}` },
    action: i % 5 === 0 ? 'print' : 'view',
    resource: { type: 'Patient', ...(i % 2 === 0 ? { id: `r${i}` } : {}) },
    outcome: 'success',
    ...(i % 6 === 0 ? { recordCount: i } : {}),
  };
}

const startWriter = (topic: string, groupId: string): LedgerWriter => fx.startWriter(topic, groupId);

/**
 * After a graceful close: the log's tiles cover it, its latest checkpoint states its size and
 * the root recomputed from the stored leaf hashes, verifies with the writer's key, and is the
 * exported file.
 */
async function expectSignedAt(origin: string, size: number): Promise<void> {
  const r = await fx.checkpointReport(origin);
  expect(r.records).toBe(size);
  expect(r.tileCoverage).toBe(size);
  expect(r.latest?.size).toBe(size);
  expect(r.latest?.rootHex).toBe(r.recomputedRootHex);
  expect(r.opened).toEqual({ origin, size, root: Buffer.from(r.recomputedRootHex, 'hex') });
  expect(r.exported).toBe(r.latest?.note);
}

describe.runIf(run)('ledger writer (real Kafka, real ClickHouse)', () => {
  beforeAll(() => fx.setup());
  afterAll(() => fx.teardown());

  it('stores every event once per partition log, sets poison aside, and a full replay changes nothing', async () => {
    const tag = randomUUID().slice(0, 8);
    const topic = `lw-int-${tag}`;
    const groupId = `lw-${tag}`;
    const tenants = [`a-${tag}`, `b-${tag}`, `c-${tag}`];
    await ensureTopic({ brokers, topic, partitions: 3 });
    const N = 900;
    const events = Array.from({ length: N }, (_, i) => eventOf(tag, i, tenants));
    const poison: Message[] = [
      { partition: 0, key: null, value: Buffer.from('{"not json') },
      {
        partition: 1,
        key: 'x',
        value: Buffer.from(
          JSON.stringify({ ...events[0], eventId: undefined, patient: { id: 'p1', name: 'Jane Roe' } }),
        ),
      },
      { partition: 2, key: 'y', value: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) },
      { partition: 0, key: 'z', value: Buffer.from(JSON.stringify({ ...events[1], extra: true })) },
    ];
    // Valid events before and after the poison, in every partition.
    const asMessage = (e: AccessEvent, i: number): Message => ({
      partition: i % 3,
      key: `${e.tenant}:${e.actor.userId}`,
      value: JSON.stringify(e),
    });
    await producer.send({ topic, acks: -1, messages: events.slice(0, N / 2).map(asMessage) });
    await producer.send({ topic, acks: -1, messages: poison });
    await producer.send({ topic, acks: -1, messages: events.slice(N / 2).map((e, i) => asMessage(e, i + N / 2)) });

    const first = startWriter(topic, groupId);
    await first.start();
    await until('first writer to catch up', () => caughtUp(first));

    // Rows per tenant = events per tenant; nothing invented, nothing lost.
    const counts = new Map((await fx.store.countsByTenant()).map((c) => [c.tenant, c.records]));
    for (const t of tenants) expect(counts.get(t)).toBe(events.filter((e) => e.tenant === t).length);
    const before = new Map<string, StoredRecord[]>();
    const storedIds = new Set<string>();
    for (const p of [0, 1, 2]) {
      const origin = originFor(topic, p);
      const rows = await scanAll(origin);
      before.set(origin, rows);
      expect(rows).toHaveLength(N / 3);
      for (const r of rows) storedIds.add(r.eventId);
      const v = await verifyLog({ origin, records: fx.store.scan(origin) });
      expect(v.ok, JSON.stringify(v.failure)).toBe(true);
      expect(v.head.size).toBe(N / 3);
    }
    expect(storedIds).toEqual(new Set(events.map((e) => e.eventId)));
    expect(await metric(first, 'phi_audit_writer_records_written_total')).toBe(N);
    expect(await metric(first, 'phi_audit_writer_rejected_total')).toBe(poison.length);

    // Every poison message is on the rejected topic, identified by origin and offset, bytes untouched.
    const rejected = await readAll(rejectedTopicOf(topic), poison.length);
    // Partition p holds offsets 0..149 of the first half, then its poison, then the second half.
    expect(
      rejected.map((r) => `${r.headers[REJECTED_HEADERS.origin]}@${r.headers[REJECTED_HEADERS.offset]}`).sort(),
    ).toEqual(
      [
        `${originFor(topic, 0)}@150`,
        `${originFor(topic, 0)}@151`,
        `${originFor(topic, 1)}@150`,
        `${originFor(topic, 2)}@150`,
      ].sort(),
    );
    expect(rejected.map((r) => r.value.toString('base64')).sort()).toEqual(
      poison.map((m) => Buffer.from(m.value as Buffer | string).toString('base64')).sort(),
    );
    const problems = rejected.map((r) => r.headers[REJECTED_HEADERS.problemKind]).sort();
    expect(problems).toEqual(['invalid_event', 'invalid_event', 'not_json', 'not_utf8']);
    await first.close();
    // Closed gracefully: every log is signed at its full size (every 100 records or 500 ms, and at the close).
    const checkpointCounts = new Map<string, number>();
    for (const origin of before.keys()) {
      await expectSignedAt(origin, N / 3);
      checkpointCounts.set(origin, (await fx.store.checkpoints(origin)).length);
    }
    expect(await metric(first, 'phi_audit_writer_checkpoints_signed_total')).toBeGreaterThanOrEqual(3);
    expect(await metric(first, 'phi_audit_writer_last_checkpoint_size')).toBe(N);
    expect(await metric(first, 'phi_audit_writer_checkpoint_export_failures_total')).toBe(0);

    // Replay everything: rewind the group to the start and run a fresh writer.
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.low })),
    });
    expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.every((p) => p.offset === '0')).toBe(
      true,
    );
    const second = startWriter(topic, groupId);
    await second.start();
    await until('replaying writer to catch up', () => caughtUp(second));
    for (const [origin, rows] of before) expect(await scanAll(origin)).toEqual(rows);
    expect(await metric(second, 'phi_audit_writer_records_written_total')).toBe(0);
    expect(await metric(second, 'phi_audit_writer_replay_skipped_total')).toBe(N + poison.length);
    // Poison below the log heads is not produced again.
    expect(await metric(second, 'phi_audit_writer_rejected_total')).toBe(0);
    // Nothing new to sign: the replay changed no log.
    expect(await metric(second, 'phi_audit_writer_checkpoints_signed_total')).toBe(0);
    for (const [origin, count] of checkpointCounts) expect(await fx.store.checkpoints(origin)).toHaveLength(count);

    // And the logs continue where they ended.
    const more = Array.from({ length: 30 }, (_, i) => eventOf(tag, N + i, tenants));
    await producer.send({ topic, acks: -1, messages: more.map((e, i) => asMessage(e, i)) });
    await until('new events to be written', () => caughtUp(second));
    for (const p of [0, 1, 2]) {
      const origin = originFor(topic, p);
      const v = await verifyLog({ origin, records: fx.store.scan(origin) });
      expect(v.ok, JSON.stringify(v.failure)).toBe(true);
      expect(v.head.size).toBe(N / 3 + 10);
    }
    await second.close();
    for (const origin of before.keys()) await expectSignedAt(origin, N / 3 + 10);
  });

  it('hands partitions between writers of one group without forking a log (heads reloaded after every rebalance)', async () => {
    const tag = randomUUID().slice(0, 8);
    const topic = `lw-int-${tag}`;
    const groupId = `lw-${tag}`;
    const tenants = [`r-${tag}`];
    await ensureTopic({ brokers, topic, partitions: 3 });
    let next = 0;
    const wave = async (n: number) => {
      const msgs = Array.from({ length: n }, (_, k) => {
        const i = next + k;
        return { partition: i % 3, key: null, value: JSON.stringify(eventOf(tag, i, tenants)) };
      });
      next += n;
      await producer.send({ topic, acks: -1, messages: msgs });
    };
    const a = startWriter(topic, groupId);
    await a.start();
    await wave(90);
    await until('writer A alone', () => caughtUp(a));
    const b = startWriter(topic, groupId);
    await b.start();
    await wave(90);
    await until('writers A and B', () => caughtUp(a));
    const writtenByB = await metric(b, 'phi_audit_writer_records_written_total');
    // B leaves: A takes its partitions back, whose logs grew while A was not looking.
    await b.close();
    await wave(90);
    await until('writer A alone again', () => caughtUp(a));
    expect(writtenByB).toBeGreaterThan(0);
    for (const p of [0, 1, 2]) {
      const origin = originFor(topic, p);
      const v = await verifyLog({ origin, records: fx.store.scan(origin) });
      expect(v.ok, JSON.stringify(v.failure)).toBe(true);
      expect(v.records).toBe(90);
    }
    await a.close();
    for (const p of [0, 1, 2]) await expectSignedAt(originFor(topic, p), 90);
  });

  it('a new owner repairs tiles and signs records a crashed writer stored without tiles or a checkpoint', async () => {
    const tag = randomUUID().slice(0, 8);
    const topic = `lw-int-${tag}`;
    const tenants = [`k-${tag}`];
    await ensureTopic({ brokers, topic, partitions: 3 });
    const events = Array.from({ length: 60 }, (_, i) => eventOf(tag, i, tenants));
    const send = (from: number, to: number) =>
      producer.send({
        topic,
        acks: -1,
        messages: events.slice(from, to).map((e) => ({ partition: 0, key: null, value: JSON.stringify(e) })),
      });
    await send(0, 40);
    // What a writer killed between the records insert and the tiles insert leaves: offsets 0..39
    // of partition 0 stored, no tiles, no checkpoint, offsets not committed.
    const origin = originFor(topic, 0);
    const chain = createChainBuilder(emptyHead(origin));
    await fx.store.append(events.slice(0, 40).map((event, offset) => chain.append({ sourceOffset: offset, event })));
    expect(await fx.store.tileCoverage(origin)).toBe(0);

    const w = fx.startWriter(topic, `lw-${tag}`, {
      checkpoints: {
        signer: fx.signer,
        policy: { everyRecords: 1_000_000, intervalMs: 600_000 },
        exportTo: { dir: fx.exportDir },
      },
    });
    await w.start();
    await until('the writer to catch up', () => caughtUp(w));
    // Every redelivered offset is already stored: nothing written, but the tiles are repaired on load…
    expect(await metric(w, 'phi_audit_writer_records_written_total')).toBe(0);
    expect(await metric(w, 'phi_audit_writer_replay_skipped_total')).toBe(40);
    expect(await fx.store.tileCoverage(origin)).toBe(40);
    // …and the unsigned records are signed by the timer (the log had no checkpoint), without a close.
    await until(
      'a checkpoint of the unsigned records',
      async () => (await fx.store.latestCheckpoint(origin))?.size === 40,
    );
    await send(40, 60);
    await until('the new events', () => caughtUp(w));
    expect(await metric(w, 'phi_audit_writer_records_written_total')).toBe(20);
    await w.close();
    await expectSignedAt(origin, 60);
    const v = await verifyLog({ origin, records: fx.store.scan(origin) });
    expect(v.ok, JSON.stringify(v.failure)).toBe(true);
  });

  it('merkle: false (the ingest benchmark only) writes no tiles and signs nothing', async () => {
    const tag = randomUUID().slice(0, 8);
    const topic = `lw-int-${tag}`;
    await ensureTopic({ brokers, topic, partitions: 3 });
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({
        partition: i % 3,
        key: null,
        value: JSON.stringify(eventOf(tag, i, [`m-${tag}`])),
      })),
    });
    const w = fx.startWriter(topic, `lw-${tag}`, { merkle: false });
    await w.start();
    await until('the writer to catch up', () => caughtUp(w));
    await w.close();
    for (const p of [0, 1, 2]) {
      const origin = originFor(topic, p);
      expect(await scanAll(origin)).toHaveLength(10);
      expect(await fx.store.tileCoverage(origin)).toBe(0);
      expect(await fx.store.checkpoints(origin)).toEqual([]);
    }
  });
});

async function readAll(topic: string, count: number): Promise<{ value: Buffer; headers: Record<string, string> }[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const out: { value: Buffer; headers: Record<string, string> }[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        out.push({ value: message.value ?? Buffer.alloc(0), headers });
      },
    });
    await until(`${count} messages on ${topic}`, async () => out.length >= count, 30_000);
    // Give duplicates a chance to show up.
    await new Promise((r) => setTimeout(r, 500));
    return out;
  } finally {
    await consumer.disconnect();
  }
}
