import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchConsumer, type BatchConsumer, type ConsumedBatch } from './consumer.js';
import { ensureTopic } from './topic.js';
import type { BusLogger } from './logger.js';

const brokersEnv = process.env.KAFKA_BROKERS;
const brokers = (brokersEnv ?? '').split(',').filter(Boolean);
const run = brokers.length > 0 || process.env.CI === 'true';

interface Entry {
  level: string;
  obj: object;
  msg: string;
}
function captureLogger(): BusLogger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: string) => (obj: object, msg: string) => void entries.push({ level, obj, msg });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const kafka = new Kafka({
  clientId: 'consumer-int-test',
  brokers: brokers.length ? brokers : ['127.0.0.1:1'],
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });

async function produce(topic: string, count: number, partitions: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, i) => ({
    partition: i % partitions,
    key: `k${i}`,
    value: `m${i}`,
  }));
  await producer.send({ topic, acks: -1, messages });
}

async function committed(groupId: string, topic: string): Promise<Map<number, number>> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

async function until(pred: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freshTopic(partitions: number): Promise<string> {
  const topic = `bus-int-${randomUUID()}`;
  await ensureTopic({ brokers, topic, partitions });
  return topic;
}

describe.runIf(run)('BatchConsumer (real Kafka)', () => {
  const open: BatchConsumer[] = [];
  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await producer.disconnect();
    await admin.disconnect();
  });

  function consumer(
    topic: string,
    groupId: string,
    handler: (b: ConsumedBatch) => Promise<void>,
    extra: object = {},
  ): BatchConsumer {
    const c = createBatchConsumer({
      brokers,
      clientId: 'bus-int',
      groupId,
      topic,
      handler,
      logger: captureLogger(),
      minBytes: 1,
      maxWaitTimeInMs: 50,
      ...extra,
    });
    open.push(c);
    return c;
  }

  it('delivers every message once in offset order and commits lastOffset+1 per partition', async () => {
    const topic = await freshTopic(3);
    await produce(topic, 300, 3);
    const seen = new Map<number, number[]>();
    const c = consumer(topic, `g-${randomUUID()}`, async (b) => {
      const list = seen.get(b.partition) ?? [];
      list.push(...b.messages.map((m) => m.offset));
      seen.set(b.partition, list);
      expect(b.messages.every((m) => m.value.toString().startsWith('m') && m.key?.startsWith('k'))).toBe(true);
    });
    expect((await c.lag()).map((l) => l.lag)).toEqual([100, 100, 100]);
    await c.start();
    await until(async () => (await c.lag()).every((l) => l.lag === 0));
    for (const p of [0, 1, 2]) expect(seen.get(p)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await c.close();
  });

  it('retries a failing batch without committing, then commits once it succeeds; nothing skipped', async () => {
    const topic = await freshTopic(1);
    const groupId = `g-${randomUUID()}`;
    await produce(topic, 50, 1);
    let failures = 0;
    const delivered: number[] = [];
    const firstOffsets: number[] = [];
    const c = consumer(
      topic,
      groupId,
      async (b) => {
        firstOffsets.push(b.messages[0]!.offset);
        if (failures < 3) {
          failures += 1;
          // While the handler keeps failing, the group must have committed nothing.
          expect((await committed(groupId, topic)).get(0)).toBe(-1);
          throw new Error('store down');
        }
        delivered.push(...b.messages.map((m) => m.offset));
      },
      { retryInitialMs: 20, retryMaxMs: 100 },
    );
    await c.start();
    await until(async () => (await committed(groupId, topic)).get(0) === 50);
    expect(failures).toBe(3);
    expect(firstOffsets.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(delivered).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await c.close();
  });

  it('close() stops a batch that keeps failing promptly, leaving its offsets uncommitted', async () => {
    const topic = await freshTopic(1);
    const groupId = `g-${randomUUID()}`;
    await produce(topic, 10, 1);
    let attempts = 0;
    const c = consumer(
      topic,
      groupId,
      async () => {
        attempts += 1;
        throw new Error('always failing');
      },
      { retryInitialMs: 5_000, retryMaxMs: 5_000 },
    );
    await c.start();
    await until(() => attempts >= 1);
    const t0 = Date.now();
    await c.close();
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect((await committed(groupId, topic)).get(0)).toBe(-1);
  });

  it('close() lets the in-flight handler finish and commits its batch', async () => {
    const topic = await freshTopic(1);
    const groupId = `g-${randomUUID()}`;
    await produce(topic, 20, 1);
    let started = false;
    let finished = false;
    const c = consumer(topic, groupId, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 1_500));
      finished = true;
    });
    await c.start();
    await until(() => started);
    await c.close();
    expect(finished).toBe(true);
    expect((await committed(groupId, topic)).get(0)).toBe(20);
  });
});

describe.runIf(run)('ensureTopic (real Kafka)', () => {
  it('creates a missing topic once and never changes an existing one', async () => {
    const topic = `bus-int-${randomUUID()}`;
    const logger = captureLogger();
    expect(await ensureTopic({ brokers, topic, partitions: 4, logger })).toEqual({ created: true, partitions: 4 });
    expect(await ensureTopic({ brokers, topic, partitions: 4, logger })).toEqual({ created: false, partitions: 4 });
    expect(
      logger.entries.filter((e) => e.level === 'warn'),
      JSON.stringify(logger.entries),
    ).toHaveLength(0);
    expect(await ensureTopic({ brokers, topic, partitions: 8, logger })).toEqual({ created: false, partitions: 4 });
    expect(logger.entries.some((e) => e.level === 'warn' && /never re-mapped/.test(e.msg))).toBe(true);
  });
});
