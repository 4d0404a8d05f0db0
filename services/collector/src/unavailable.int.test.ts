import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventPublisher, type EventPublisher } from '@phi-audit/bus-kafka';
import { buildCollectorApp } from './app.js';
import { parseCollectorConfig } from './config.js';
import type { ErrorBody } from './errors.js';
import { createIngestKey, openIngestKeyStore } from './ingest-keys.js';
import { createCollectorLogger } from './logger.js';

// Kafka is "down": the publisher points at a port nothing listens on.
const config = parseCollectorConfig({
  KAFKA_BROKERS: '127.0.0.1:1',
  KAFKA_TOPIC: `collector-down-${randomUUID()}`,
  COLLECTOR_RETRY_AFTER_SECONDS: '7',
});
let dir: string;
let key: string;
let publisher: EventPublisher;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'collector-down-'));
  const file = join(dir, 'keys.json');
  key = (await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' })).key;
  const logger = createCollectorLogger({ level: 'silent' });
  publisher = createEventPublisher({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    clientId: 'collector-down',
    logger,
    connectionTimeoutMs: 300,
    sendTimeoutMs: 5_000,
  });
  app = buildCollectorApp({ config, logger, publisher, keys: openIngestKeyStore({ file, logger }) });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await publisher?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('collector with Kafka unavailable', () => {
  it('answers 503 INGEST_UNAVAILABLE with Retry-After, never 2xx, and keeps serving', async () => {
    const event = {
      eventId: 'e1',
      occurredAt: Date.now(),
      actor: { userId: 'u' },
      patient: { id: 'p' },
      action: 'view',
      resource: { type: 'chart' },
      outcome: 'success',
    };
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify([event]),
      });
    const [a, b] = await Promise.all([send(), send()]);
    for (const res of [a, b]) {
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
      const { error } = res.json<ErrorBody>();
      expect(error.code).toBe('INGEST_UNAVAILABLE');
      expect(error.message).toMatch(/nothing was acknowledged, retry later/);
    }
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/phi_audit_collector_produce_seconds_count\{outcome="failure"\} 2/);
    expect(metrics.body).not.toMatch(/events_accepted_total\{/);
  });
});
