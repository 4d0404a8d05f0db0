import { randomUUID } from 'node:crypto';
import { ensureTopic, originFor } from '@phi-audit/bus-kafka';
import { verifyLog, type StoredRecord } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerWriter } from './ledger-writer.js';
import { createWriterFixture } from './testing/writer-fixture.js';

/**
 * Client retries: the same events (same tenant, source system, event id and actor, hence the
 * same partition key) produced again at new offsets, with a new receivedAt as the collector
 * stamps it. The writer's duplicate window must store each once, across restarts and replays.
 */

const fx = createWriterFixture('lw_dedupe');
const { run, brokers, admin, caughtUp, metric, scanAll, until } = fx;

function eventOf(tag: string, i: number, receivedAt = 1_700_000_000_500 + i): AccessEvent {
  return {
    eventId: `${tag}-${i}`,
    tenant: i % 2 === 0 ? `a-${tag}` : `b-${tag}`,
    occurredAt: 1_700_000_000_000 + i,
    receivedAt,
    source: { system: i % 3 === 0 ? 'lab' : 'ehr' },
    actor: { userId: `u${i % 7}` },
    patient: { id: `p${i % 13}` },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
  };
}

/** The same event as a retry: identical key fields, new server receive time. */
const retried = (e: AccessEvent): AccessEvent => ({ ...e, receivedAt: e.receivedAt + 3_600_000 });

function startWriter(topic: string, groupId: string, dedupeWindow?: number): LedgerWriter {
  return fx.startWriter(topic, groupId, dedupeWindow === undefined ? {} : { dedupeWindow });
}

/** Every log of the topic verifies; returns its rows, and checks count() = uniqExact(eventId) per log. */
async function verifiedRows(topic: string, partitions: number): Promise<StoredRecord[]> {
  const all: StoredRecord[] = [];
  for (let p = 0; p < partitions; p++) {
    const origin = originFor(topic, p);
    const v = await verifyLog({ origin, records: fx.store.scan(origin) });
    expect(v.ok, JSON.stringify(v.failure)).toBe(true);
    const rows = await scanAll(origin);
    expect(new Set(rows.map((r) => `${r.tenant}\n${r.eventId}`)).size).toBe(rows.length);
    all.push(...rows);
  }
  return all;
}

async function rewind(topic: string, groupId: string): Promise<void> {
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({ groupId, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.low })) });
}

async function newTopic(partitions: number): Promise<{ tag: string; topic: string; groupId: string }> {
  const tag = randomUUID().slice(0, 8);
  const topic = `lw-dedupe-${tag}`;
  await ensureTopic({ brokers, topic, partitions });
  return { tag, topic, groupId: `lw-dedupe-${tag}` };
}

describe.runIf(run)('ledger writer duplicate window (real Kafka, real ClickHouse)', () => {
  beforeAll(() => fx.setup());
  afterAll(() => fx.teardown());

  it('stores a retried request once: 200 events produced twice, and repeats inside one batch', async () => {
    const { tag, topic, groupId } = await newTopic(3);
    const events = Array.from({ length: 200 }, (_, i) => eventOf(tag, i));
    // Produced before the writer starts, so the repeats sit in the same fetch as their first copy.
    const pairs = Array.from({ length: 30 }, (_, k) => eventOf(tag, 1_000 + k)).flatMap((e) => [e, retried(e)]);
    await fx.produce(topic, [...events, ...pairs]);
    const w = startWriter(topic, groupId);
    await w.start();
    await until('first delivery', () => caughtUp(w));
    expect(await metric(w, 'phi_audit_writer_records_written_total')).toBe(230);
    expect(await metric(w, 'phi_audit_writer_duplicates_skipped_total')).toBe(30);

    await fx.produce(topic, events.map(retried));
    await until('the retry', () => caughtUp(w));
    expect(await metric(w, 'phi_audit_writer_records_written_total')).toBe(230);
    expect(await metric(w, 'phi_audit_writer_duplicates_skipped_total')).toBe(230);

    const rows = await verifiedRows(topic, 3);
    expect(rows).toHaveLength(230);
    // The first copy is the one kept.
    const byId = new Map(rows.map((r) => [r.eventId, JSON.parse(r.eventJson) as AccessEvent]));
    for (const e of [...events, ...pairs.filter((_, k) => k % 2 === 0)]) {
      expect(byId.get(e.eventId)?.receivedAt).toBe(e.receivedAt);
    }
    await w.close();
  });

  it('keeps skipping after a restart and a rebalance: the window is loaded from the store', async () => {
    const { tag, topic, groupId } = await newTopic(3);
    const before = Array.from({ length: 150 }, (_, i) => eventOf(tag, i));
    const first = startWriter(topic, groupId);
    await first.start();
    await fx.produce(topic, before);
    await until('first writer', () => caughtUp(first));
    await first.close();

    const second = startWriter(topic, groupId);
    await second.start();
    const fresh = Array.from({ length: 30 }, (_, i) => eventOf(tag, 500 + i));
    // Retries of pre-restart events interleaved with new ones.
    await fx.produce(
      topic,
      before.map(retried).flatMap((e, i) => (i % 5 === 0 ? [e, fresh[i / 5]!] : [e])),
    );
    await until('restarted writer', () => caughtUp(second));
    expect(await metric(second, 'phi_audit_writer_duplicates_skipped_total')).toBe(150);
    expect(await metric(second, 'phi_audit_writer_records_written_total')).toBe(30);

    // A second member joins: both reload heads and windows after the rebalance.
    const third = startWriter(topic, groupId);
    await third.start();
    await fx.produce(
      topic,
      [...before, ...fresh].map((e) => retried(retried(e))),
    );
    await until('two writers', () => caughtUp(second, third));
    const dups =
      (await metric(second, 'phi_audit_writer_duplicates_skipped_total')) +
      (await metric(third, 'phi_audit_writer_duplicates_skipped_total'));
    expect(dups).toBe(150 + 180);
    expect(await metric(third, 'phi_audit_writer_records_written_total')).toBe(0);
    expect(await verifiedRows(topic, 3)).toHaveLength(180);
    await third.close();
    await second.close();
  });

  it('a replay from offset 0 after skipped duplicates yields byte-identical rows and adds nothing', async () => {
    const { tag, topic, groupId } = await newTopic(3);
    const events = Array.from({ length: 120 }, (_, i) => eventOf(tag, i));
    const w = startWriter(topic, groupId);
    await w.start();
    await fx.produce(topic, events);
    await until('delivery', () => caughtUp(w));
    // The retries form the tail of every log's partition: above the head's source offset, so a
    // replay re-decides them through the window rather than the offset rule.
    await fx.produce(topic, events.map(retried));
    await until('retry', () => caughtUp(w));
    await w.close();
    const before = await verifiedRows(topic, 3);
    expect(before).toHaveLength(120);

    await rewind(topic, groupId);
    const replay = startWriter(topic, groupId);
    await replay.start();
    await until('replay', () => caughtUp(replay));
    expect(await verifiedRows(topic, 3)).toEqual(before);
    expect(await metric(replay, 'phi_audit_writer_records_written_total')).toBe(0);
    expect(await metric(replay, 'phi_audit_writer_replay_skipped_total')).toBe(120);
    expect(await metric(replay, 'phi_audit_writer_duplicates_skipped_total')).toBe(120);
    await replay.close();
  });

  it('is bounded: a key more than N records back is stored again (N = 50 here)', async () => {
    const { tag, topic, groupId } = await newTopic(1);
    const origin = originFor(topic, 0);
    const events = Array.from({ length: 60 }, (_, i) => eventOf(tag, i));
    const w = startWriter(topic, groupId, 50);
    await w.start();
    await fx.produce(topic, events);
    await until('delivery', () => caughtUp(w));
    // Window = indexes 10..59: event 10 is the oldest still inside, event 9 fell out. (Order
    // matters: storing 9 again pushes 10 out of the window.)
    await fx.produce(topic, [retried(events[10]!), retried(events[59]!), retried(events[9]!)]);
    await until('retries', () => caughtUp(w));
    let rows = await scanAll(origin);
    expect(rows.map((r) => r.eventId).slice(60)).toEqual([events[9]!.eventId]);
    expect(await metric(w, 'phi_audit_writer_duplicates_skipped_total')).toBe(2);
    await w.close();

    // After a restart the window is the last 50 records read from the store: indexes 11..60,
    // i.e. events 11..59 and the second copy of 9; event 10 (index 10) is outside.
    const again = startWriter(topic, groupId, 50);
    await again.start();
    await fx.produce(topic, [retried(events[11]!), retried(events[9]!), retried(events[10]!)]);
    await until('retries after restart', () => caughtUp(again));
    rows = await scanAll(origin);
    expect(rows.map((r) => r.eventId).slice(60)).toEqual([events[9]!.eventId, events[10]!.eventId]);
    expect(await metric(again, 'phi_audit_writer_duplicates_skipped_total')).toBe(2);
    const v = await verifyLog({ origin, records: fx.store.scan(origin) });
    expect(v.ok, JSON.stringify(v.failure)).toBe(true);
    expect(v.records).toBe(62);
    await again.close();
  });
});
