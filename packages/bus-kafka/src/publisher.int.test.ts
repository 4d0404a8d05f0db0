import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessEvent } from '@phi-audit/schema';
import { BusError } from './errors.js';
import { createEventPublisher, type EventPublisher } from './publisher.js';
import { ensureTopic } from './topic.js';

const brokersEnv = process.env.KAFKA_BROKERS;
if (!brokersEnv) throw new Error('KAFKA_BROKERS must point at a running Kafka broker for integration tests');
const brokers = brokersEnv.split(',');
const topic = `publisher-int-${randomUUID()}`;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const kafka = new Kafka({ clientId: 'publisher-int-test', brokers, logLevel: logLevel.NOTHING });
const received: KafkaMessage[] = [];
let consumer: Consumer;
let publisher: EventPublisher;

function event(i: number, extra: Partial<AccessEvent> = {}): AccessEvent {
  return {
    eventId: `pub-${i}-${randomUUID()}`,
    tenant: 'clinic-a',
    occurredAt: 1_714_000_000_000 + i,
    receivedAt: 1_714_000_000_500 + i,
    source: { system: 'ehr-1' },
    actor: { userId: `user-${i % 7}` },
    patient: { id: `patient-${i}` },
    action: 'view',
    resource: { type: 'chart' },
    outcome: 'success',
    ...extra,
  };
}

async function highWatermark(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('timed out waiting for messages');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  await ensureTopic({ brokers, topic, partitions: 3 });
  consumer = kafka.consumer({ groupId: `publisher-int-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(message) });
  publisher = createEventPublisher({ brokers, topic, clientId: 'publisher-int', logger: quiet, lingerMs: 5 });
});

afterAll(async () => {
  await publisher?.close();
  await consumer?.disconnect();
});

describe('createEventPublisher', () => {
  it('writes the canonical JSON byte-exact under the key tenant:userId', async () => {
    const tricky = event(1, { actor: { userId: 'dr "quote" \\ back\u0000nul {x:String} 🩺' } });
    await publisher.publish([tricky]);
    await waitFor(() => received.some((m) => m.value?.toString() === JSON.stringify(tricky)));
    const m = received.find((x) => x.value?.toString() === JSON.stringify(tricky))!;
    expect(m.key?.toString()).toBe(`clinic-a:${tricky.actor.userId}`);
    expect(m.value?.equals(Buffer.from(JSON.stringify(tricky), 'utf8'))).toBe(true);
  });

  it('coalesces concurrent publish() calls into few sends, each caller resolving after the ack', async () => {
    const before = publisher.stats();
    const hwBefore = await highWatermark();
    const events = Array.from({ length: 200 }, (_, i) => event(1000 + i));
    await Promise.all(events.map((e) => publisher.publish([e])));
    const after = publisher.stats();
    // Every resolved publish must already be in the log: the high watermark moved by all 200.
    expect((await highWatermark()) - hwBefore).toBe(200);
    const sends = after.sends - before.sends;
    console.info(`group commit: 200 concurrent publish() calls → ${sends} sends`);
    expect(after.publishes - before.publishes).toBe(200);
    expect(sends).toBeGreaterThanOrEqual(1);
    expect(sends).toBeLessThan(20);
  });

  it('gets 5,000 large events through, split under the broker message size limit', async () => {
    const hwBefore = await highWatermark();
    const before = publisher.stats();
    const big = Array.from({ length: 5_000 }, (_, i) =>
      event(10_000 + i, { actor: { userId: 'same-user' }, reason: 'r'.repeat(1_500) }),
    );
    await publisher.publish(big);
    expect((await highWatermark()) - hwBefore).toBe(5_000);
    const sends = publisher.stats().sends - before.sends;
    console.info(`5,000 events of ~1.8 KB → ${sends} sends`);
    expect(sends).toBeGreaterThan(1);
  });

  it('rejects every caller of a failed send with BUS_UNAVAILABLE when Kafka is unreachable', async () => {
    const down = createEventPublisher({
      brokers: ['127.0.0.1:1'],
      topic,
      clientId: 'publisher-int-down',
      logger: quiet,
      connectionTimeoutMs: 300,
      sendTimeoutMs: 5_000,
    });
    try {
      const results = await Promise.allSettled([1, 2, 3].map((i) => down.publish([event(90_000 + i)])));
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const reason = (r as PromiseRejectedResult).reason as BusError;
        expect(reason).toBeInstanceOf(BusError);
        expect(reason.code).toBe('BUS_UNAVAILABLE');
      }
      expect(await down.isReady()).toBe(false);
    } finally {
      await down.close();
    }
  });

  it('reports readiness against the topic and refuses publishes after close()', async () => {
    expect(await publisher.isReady()).toBe(true);
    const other = createEventPublisher({ brokers, topic, clientId: 'publisher-int-close', logger: quiet });
    await other.publish([event(5)]);
    await other.close();
    await expect(other.publish([event(6)])).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    expect(await other.isReady()).toBe(false);
  });
});
