import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventPublisher, ensureTopic, type EventPublisher } from '@phi-audit/bus-kafka';
import { buildCollectorApp } from './app.js';
import { parseCollectorConfig } from './config.js';
import type { ErrorBody } from './errors.js';
import { createIngestKey, openIngestKeyStore, revokeIngestKey } from './ingest-keys.js';
import { createCollectorLogger } from './logger.js';

const brokersEnv = process.env.KAFKA_BROKERS;
if (!brokersEnv) throw new Error('KAFKA_BROKERS must point at a running Kafka broker for integration tests');
const topic = `collector-ingest-${randomUUID()}`;
const MAX_BODY = 4 * 1024 * 1024;
const config = parseCollectorConfig({
  KAFKA_BROKERS: brokersEnv,
  KAFKA_TOPIC: topic,
  COLLECTOR_MAX_BODY_BYTES: String(MAX_BODY),
});
const kafka = new Kafka({
  clientId: 'collector-int-test',
  brokers: [...config.kafka.brokers],
  logLevel: logLevel.NOTHING,
});

const logLines: string[] = [];
const received: KafkaMessage[] = [];
let dir: string;
let keysFile: string;
let keyA: string;
let keyB: string;
let publisher: EventPublisher;
let consumer: Consumer;
let app: FastifyInstance;

/** A valid posted event; `PHI-` markers let the log test search for leaked values. */
function ev(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: `ev-${randomUUID()}`,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    actor: { userId: 'PHI-user-drsmith', name: 'PHI-Name Dr Smith' },
    patient: { id: `PHI-patient-${randomUUID()}` },
    action: 'view',
    resource: { type: 'chart' },
    outcome: 'success',
    ...overrides,
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

async function waitForMessages(eventIds: readonly string[], timeoutMs = 20_000): Promise<Map<string, KafkaMessage>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = new Map<string, KafkaMessage>();
    for (const m of received) {
      const id = (JSON.parse(m.value!.toString()) as { eventId: string }).eventId;
      if (eventIds.includes(id)) found.set(id, m);
    }
    if (found.size === eventIds.length) return found;
    if (Date.now() > until) throw new Error(`only ${found.size} of ${eventIds.length} events arrived`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function post(
  body: string | Buffer,
  headers: Record<string, string> = {},
  key: string | null = keyA,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...headers,
    },
    payload: body,
  });
}

function errorOf(res: LightMyRequestResponse): ErrorBody['error'] {
  return res.json<ErrorBody>().error;
}

/** Sends a bad request and asserts status, code, message, and that Kafka received nothing. */
async function rejects(
  send: () => Promise<LightMyRequestResponse>,
  status: number,
  code: string,
  message: RegExp,
): Promise<ErrorBody['error']> {
  const before = await highWatermark();
  const res = await send();
  expect(res.statusCode, res.body).toBe(status);
  const error = errorOf(res);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/); // never a stack trace
  expect(await highWatermark()).toBe(before);
  return error;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'collector-int-'));
  keysFile = join(dir, 'keys.json');
  keyA = (await createIngestKey({ file: keysFile, tenant: 'clinic-a', source: 'ehr-1' })).key;
  keyB = (await createIngestKey({ file: keysFile, tenant: 'clinic-b', source: 'ehr-2' })).key;
  await ensureTopic({ brokers: config.kafka.brokers, topic, partitions: 3 });
  const logger = createCollectorLogger({
    level: 'debug',
    destination: { write: (s: string) => void logLines.push(s) },
  });
  publisher = createEventPublisher({
    brokers: config.kafka.brokers,
    topic,
    clientId: 'collector-int',
    logger,
    lingerMs: 2,
  });
  const keys = openIngestKeyStore({ file: keysFile, logger });
  app = buildCollectorApp({ config, logger, publisher, keys });
  await app.ready();
  consumer = kafka.consumer({ groupId: `collector-int-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(message) });
});

afterAll(async () => {
  await app?.close();
  await publisher?.close();
  await consumer?.disconnect();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/events accepts', () => {
  it('a JSON array, storing ids with quotes, backslashes, NUL and {x:String} verbatim under tenant:userId', async () => {
    const weird = [
      'quote " inside',
      'back\\slash',
      'nul\u0000byte',
      '{x:String}',
      "'; DROP TABLE access_log; --",
      'emoji 🩺 ü',
    ];
    const events = weird.map((w) =>
      ev({ eventId: `ev-${w}-${randomUUID()}`, actor: { userId: w }, patient: { id: w } }),
    );
    const before = Date.now();
    const res = await post(JSON.stringify(events));
    expect(res.statusCode, res.body).toBe(202);
    const ids = events.map((e) => e.eventId as string);
    expect(res.json()).toEqual({ accepted: events.length, eventIds: ids });
    const stored = await waitForMessages(ids);
    for (const [i, posted] of events.entries()) {
      const m = stored.get(ids[i]!)!;
      expect(m.key?.toString()).toBe(`clinic-a:${weird[i]}`);
      const value = JSON.parse(m.value!.toString()) as Record<string, unknown>;
      // The exact bytes of the id arrive, JSON-escaped exactly as JSON.stringify escapes them.
      expect(m.value!.includes(Buffer.from(JSON.stringify(weird[i]), 'utf8'))).toBe(true);
      expect(m.value!.toString()).toBe(JSON.stringify(value));
      expect(value).toEqual({
        ...posted,
        tenant: 'clinic-a',
        source: { system: 'ehr-1' },
        occurredAt: Date.parse(posted.occurredAt as string),
        receivedAt: value.receivedAt,
      });
      expect(value.receivedAt).toBeGreaterThanOrEqual(before);
    }
  });

  it('a login without a patient (a login concerns none), stored without one', async () => {
    const login = ev({ action: 'login', resource: { type: 'Session' } });
    delete login.patient;
    const res = await post(JSON.stringify([login]));
    expect(res.statusCode, res.body).toBe(202);
    const eventId = login.eventId as string;
    const stored = await waitForMessages([eventId]);
    const value = JSON.parse(stored.get(eventId)!.value!.toString()) as Record<string, unknown>;
    expect(value).toEqual({
      ...login,
      tenant: 'clinic-a',
      source: { system: 'ehr-1' },
      occurredAt: Date.parse(login.occurredAt as string),
      receivedAt: value.receivedAt,
    });
    expect('patient' in value).toBe(false);
  });

  it('NDJSON with CRLF and a blank trailing line, and +14:00 normalised to UTC', async () => {
    const kiribati = new Date(Date.now() - 3_600_000);
    const local = new Date(kiribati.getTime() + 14 * 3_600_000).toISOString().slice(0, 19) + '+14:00';
    const events = [
      ev(),
      ev({ occurredAt: local }),
      ev({ occurredAt: Date.now() - 1000, source: { system: 'ehr-1', site: 'north' } }),
    ];
    const body = events.map((e) => JSON.stringify(e)).join('\r\n') + '\n\n';
    const res = await post(body, { 'content-type': 'application/x-ndjson; charset=utf-8' });
    expect(res.statusCode, res.body).toBe(202);
    const stored = await waitForMessages(events.map((e) => e.eventId as string));
    const second = JSON.parse(stored.get(events[1]!.eventId as string)!.value!.toString()) as { occurredAt: number };
    expect(second.occurredAt).toBe(Math.floor(kiribati.getTime() / 1000) * 1000);
    const third = JSON.parse(stored.get(events[2]!.eventId as string)!.value!.toString()) as { source: unknown };
    expect(third.source).toEqual({ system: 'ehr-1', site: 'north' });
  });

  it('a gzip-encoded body', async () => {
    const events = [ev(), ev()];
    const res = await post(gzipSync(JSON.stringify(events)), { 'content-encoding': 'gzip' });
    expect(res.statusCode, res.body).toBe(202);
    await waitForMessages(events.map((e) => e.eventId as string));
  });

  it('5,000 events in one request, all durable before the 202', async () => {
    const before = await highWatermark();
    const events = Array.from({ length: 5_000 }, () => ev());
    const res = await post(JSON.stringify(events));
    expect(res.statusCode, res.body).toBe(202);
    expect(await highWatermark()).toBe(before + 5_000);
  });

  it('200 concurrent single-event requests sharing Kafka sends (group commit)', async () => {
    const hwBefore = await highWatermark();
    const sendsBefore = publisher.stats().sends;
    const responses = await Promise.all(Array.from({ length: 200 }, () => post(JSON.stringify([ev()]))));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(200).fill(202));
    const sends = publisher.stats().sends - sendsBefore;
    console.info(`group commit: 200 concurrent requests → ${sends} Kafka sends`);
    expect(await highWatermark()).toBe(hwBefore + 200);
    expect(sends).toBeLessThan(100);
  });
});

describe('POST /v1/events rejects bad input with a clear 4xx and produces nothing', () => {
  it('body over the limit → 413', async () => {
    const big = JSON.stringify([ev({ reason: 'x'.repeat(MAX_BODY) })]);
    await rejects(() => post(big), 413, 'INGEST_BODY_TOO_LARGE', /larger than 4194304 bytes/);
  });

  it('gzip bomb → 413 without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    await rejects(
      () => post(bomb, { 'content-encoding': 'gzip' }),
      413,
      'INGEST_BODY_TOO_LARGE',
      /decompresses to more than/,
    );
  });

  it('corrupt gzip → 400; other encodings → 415', async () => {
    await rejects(() => post('not gzip', { 'content-encoding': 'gzip' }), 400, 'INGEST_INVALID_BODY', /not valid gzip/);
    await rejects(
      () => post('[]', { 'content-encoding': 'br' }),
      415,
      'INGEST_UNSUPPORTED_ENCODING',
      /"br" is not supported/,
    );
  });

  it('wrong or missing content type → 415', async () => {
    const body = JSON.stringify([ev()]);
    await rejects(
      () => post(body, { 'content-type': 'text/plain' }),
      415,
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
      /application\/json.*got "text\/plain"/,
    );
    await rejects(
      () => post(body, { 'content-type': 'application/json; charset=latin1' }),
      415,
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
      /UTF-8/,
    );
    await rejects(
      () =>
        app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { authorization: `Bearer ${keyA}` },
          payload: Buffer.from(body),
        }),
      415,
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
      /none was sent/,
    );
  });

  it('empty body → 400 (JSON and NDJSON)', async () => {
    await rejects(() => post(''), 400, 'INGEST_INVALID_BODY', /body is empty/);
    await rejects(() => post('  \n'), 400, 'INGEST_INVALID_BODY', /body is empty/);
    await rejects(
      () => post('\n\n', { 'content-type': 'application/x-ndjson' }),
      400,
      'INGEST_INVALID_BODY',
      /body is empty/,
    );
    await rejects(() => post('[]'), 400, 'INGEST_INVALID_BODY', /array is empty/);
  });

  it('not JSON → 400 with line and column', async () => {
    const error = await rejects(
      () => post('[\n  {"eventId": "a",}\n]'),
      400,
      'INGEST_INVALID_BODY',
      /not valid JSON: .* at line 2, column \d+/,
    );
    expect(error.details?.[0]).toMatchObject({ line: 2 });
    const nd = await rejects(
      () => post(`${JSON.stringify(ev())}\n{oops}\n`, { 'content-type': 'application/x-ndjson' }),
      400,
      'INGEST_INVALID_BODY',
      /1 line\(s\)/,
    );
    expect(nd.details?.[0]).toMatchObject({ index: 1, line: 2 });
    expect(nd.details?.[0]?.message).toMatch(/line 2 is not valid JSON/);
  });

  it('a JSON string, number or single object → 400 (object: wrap it in an array)', async () => {
    await rejects(() => post('"hello"'), 400, 'INGEST_INVALID_BODY', /must be a JSON array of events, got string/);
    await rejects(() => post('42'), 400, 'INGEST_INVALID_BODY', /got number/);
    await rejects(
      () => post(JSON.stringify(ev())),
      400,
      'INGEST_INVALID_BODY',
      /single JSON object; wrap it in an array/,
    );
    await rejects(() => post('[1, "x"]'), 400, 'INGEST_INVALID_EVENT', /2 of 2 event\(s\) are invalid/);
  });

  it('__proto__ and constructor keys → 400 naming them', async () => {
    const body = `[${JSON.stringify(ev()).slice(0, -1)}, "__proto__": {"admin": true}}, ${JSON.stringify(ev({ actor: { userId: 'u' } })).replace('"userId"', '"constructor": 1, "userId"')}]`;
    const error = await rejects(() => post(body), 400, 'INGEST_INVALID_EVENT', /2 of 2/);
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          index: 0,
          path: '__proto__',
          message: expect.stringMatching(/"__proto__" is not allowed/),
        }),
        expect.objectContaining({
          index: 1,
          path: 'actor.constructor',
          message: expect.stringMatching(/"constructor" is not allowed/),
        }),
      ]),
    );
  });

  it('unknown fields → 400 naming them; missing fields → 400 naming them', async () => {
    const unknown = await rejects(
      () => post(JSON.stringify([ev({ actor: { userId: 'u', shoeSize: 9 }, extra: 1 })])),
      400,
      'INGEST_INVALID_EVENT',
      /1 of 1/,
    );
    expect(unknown.details?.map((d) => d.path).sort()).toEqual(['actor.shoeSize', 'extra']);
    expect(unknown.details?.[0]?.message).toMatch(/unknown field/);
    const missing = ev();
    delete missing.patient;
    delete missing.action;
    const error = await rejects(() => post(JSON.stringify([missing])), 400, 'INGEST_INVALID_EVENT', /invalid/);
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          index: 0,
          eventId: missing.eventId,
          path: 'patient',
          message: 'patient is required unless action is login',
        }),
        expect.objectContaining({ path: 'action' }),
      ]),
    );
  });

  it('invalid UTF-8 bytes and lone surrogates → 400', async () => {
    const good = Buffer.from(JSON.stringify([ev()]));
    const bad = Buffer.concat([good.subarray(0, 20), Buffer.from([0xc3, 0x28]), good.subarray(20)]);
    await rejects(() => post(bad), 400, 'INGEST_INVALID_BODY', /not valid UTF-8 .*near byte 20/);
    const lone = JSON.stringify([ev({ actor: { userId: 'x' } })]).replace('"userId":"x"', '"userId":"x\\ud800y"');
    const error = await rejects(() => post(lone), 400, 'INGEST_INVALID_EVENT', /invalid/);
    expect(error.details?.[0]).toMatchObject({
      index: 0,
      path: 'actor.userId',
      message: expect.stringMatching(/surrogate/),
    });
  });

  it('numbers like 1e400 or above 2^53 → 400', async () => {
    const body = `[${JSON.stringify(ev({ recordCount: 1 })).replace('"recordCount":1', '"recordCount":1e400')},${JSON.stringify(ev({ occurredAt: 1 })).replace('"occurredAt":1', '"occurredAt":9007199254740993')}]`;
    const error = await rejects(() => post(body), 400, 'INGEST_INVALID_EVENT', /2 of 2/);
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          index: 0,
          path: 'recordCount',
          message: expect.stringMatching(/1e400 is out of range/),
        }),
        expect.objectContaining({
          index: 1,
          path: 'occurredAt',
          message: expect.stringMatching(/9007199254740993 is larger than 2\^53-1/),
        }),
      ]),
    );
  });

  it('duplicate keys → 400 naming the key', async () => {
    const body = `[${JSON.stringify(ev()).replace('"action":"view"', '"action":"view","action":"delete"')}]`;
    const error = await rejects(() => post(body), 400, 'INGEST_INVALID_EVENT', /1 of 1/);
    expect(error.details?.[0]).toMatchObject({
      index: 0,
      path: 'action',
      message: expect.stringMatching(/duplicate key "action"/),
    });
  });

  it('timestamps far past, future, without zone, leap second, beyond ±14:00 → 400; +14:00 accepted above', async () => {
    const cases: [unknown, RegExp][] = [
      ['1999-01-01T00:00:00Z', /older than the accepted window/],
      [new Date(Date.now() + 3_600_000).toISOString(), /in the future/],
      ['2024-05-01T12:00:00', /has no time zone/],
      ['2016-12-31T23:59:60Z', /leap second/],
      ['2024-05-01T12:00:00+14:30', /outside the real range/],
      ['2024-05-01T12:00:00-15:00', /outside the real range/],
    ];
    const events = cases.map(([occurredAt]) => ev({ occurredAt }));
    const error = await rejects(() => post(JSON.stringify(events)), 400, 'INGEST_INVALID_EVENT', /6 of 6/);
    cases.forEach(([, message], index) => {
      expect(error.details?.[index]).toMatchObject({
        index,
        eventId: events[index]!.eventId,
        path: 'occurredAt',
        message: expect.stringMatching(message),
      });
    });
  });

  it('one bad event of 1,000 → whole request 400 naming its index, eventId and field', async () => {
    const events = Array.from({ length: 1_000 }, () => ev());
    events[637] = ev({ eventId: 'the-bad-one', actor: { userId: '' } });
    const error = await rejects(
      () => post(JSON.stringify(events)),
      400,
      'INGEST_INVALID_EVENT',
      /1 of 1000 event\(s\) are invalid; nothing was accepted/,
    );
    expect(error.details).toEqual([
      { index: 637, eventId: 'the-bad-one', path: 'actor.userId', message: 'actor.userId must not be empty' },
    ]);
  });

  it('details are capped at 100 with a count of the rest', async () => {
    const events = Array.from({ length: 150 }, () => ev({ action: 'peek' }));
    const error = await rejects(() => post(JSON.stringify(events)), 400, 'INGEST_INVALID_EVENT', /150 of 150/);
    expect(error.details).toHaveLength(100);
    expect(error.moreDetails).toBe(50);
  });

  it('more than 5,000 events → 413 with a clear message', async () => {
    const line = JSON.stringify(ev());
    await rejects(
      () => post(`[${Array(5_001).fill(line).join(',')}]`),
      413,
      'INGEST_TOO_MANY_EVENTS',
      /5001 events; at most 5000/,
    );
    await rejects(
      () => post(Array(5_001).fill(line).join('\n'), { 'content-type': 'application/x-ndjson' }),
      413,
      'INGEST_TOO_MANY_EVENTS',
      /split the batch/,
    );
  });

  it('duplicate eventId within one request → 400 naming both indexes', async () => {
    const a = ev();
    const error = await rejects(
      () => post(JSON.stringify([a, ev(), { ...a }])),
      400,
      'INGEST_DUPLICATE_EVENT_ID',
      /repeat an eventId/,
    );
    expect(error.details).toEqual([
      { index: 2, eventId: a.eventId, path: 'eventId', message: 'duplicate eventId; the same id is at index 0' },
    ]);
  });

  it('events naming another tenant or source than the key → 403 naming the events', async () => {
    const events = [ev(), ev({ tenant: 'clinic-b' }), ev({ tenant: 'clinic-a' }), ev({ source: { system: 'ehr-2' } })];
    const error = await rejects(
      () => post(JSON.stringify(events)),
      403,
      'INGEST_FORBIDDEN_TENANT',
      /2 of 4 event\(s\) name a tenant or source/,
    );
    expect(error.details).toEqual([
      expect.objectContaining({ index: 1, eventId: events[1]!.eventId, path: 'tenant' }),
      expect.objectContaining({ index: 3, eventId: events[3]!.eventId, path: 'source.system' }),
    ]);
    // The other tenant's own key may write there.
    const ok = await post(JSON.stringify([ev({ tenant: 'clinic-b', source: { system: 'ehr-2' } })]), {}, keyB);
    expect(ok.statusCode, ok.body).toBe(202);
  });
});

describe('ingest keys', () => {
  it('missing, malformed and unknown keys → 401', async () => {
    const body = JSON.stringify([ev()]);
    await rejects(() => post(body, {}, null), 401, 'INGEST_UNAUTHORIZED', /missing ingest key/);
    await rejects(
      () => post(body, { authorization: `Basic ${keyA}` }, null),
      401,
      'INGEST_UNAUTHORIZED',
      /missing ingest key/,
    );
    await rejects(() => post(body, {}, 'not-a-key'), 401, 'INGEST_UNAUTHORIZED', /unknown or revoked/);
    const forged = `${keyA.slice(0, -4)}AAAA`;
    await rejects(() => post(body, {}, forged), 401, 'INGEST_UNAUTHORIZED', /unknown or revoked/);
    const res = await post(body, {}, null);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('keys created while running work without restart; revoked keys stop working', async () => {
    expect((await stat(keysFile)).mode & 0o777).toBe(0o600);
    const { key, keyId } = await createIngestKey({ file: keysFile, tenant: 'clinic-c', source: 'lab' });
    await new Promise((r) => setTimeout(r, 1_100));
    const first = await post(JSON.stringify([ev()]), {}, key);
    expect(first.statusCode, first.body).toBe(202);
    expect(await revokeIngestKey({ file: keysFile, keyId })).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100));
    await rejects(() => post(JSON.stringify([ev()]), {}, key), 401, 'INGEST_UNAUTHORIZED', /unknown or revoked/);
  });
});

describe('operations', () => {
  it('serves /healthz, /readyz, /metrics and 404s in the error shape', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/phi_audit_collector_events_accepted_total\{tenant="clinic-a"\} \d{4,}/);
    expect(metrics.body).toMatch(/phi_audit_collector_events_rejected_total\{reason="INGEST_INVALID_EVENT"\} \d+/);
    expect(metrics.body).toMatch(
      /phi_audit_collector_http_requests_total\{method="POST",route="\/v1\/events",status="202"\} \d+/,
    );
    expect(metrics.body).toMatch(/phi_audit_collector_produce_seconds_count\{outcome="success"\} \d+/);
    expect(metrics.body).toMatch(/phi_audit_collector_request_body_bytes_count\{route="\/v1\/events"\} \d+/);
    const missing = await app.inject({ url: '/nope' });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).code).toBe('NOT_FOUND');
  });

  it('logs carry request ids and tenants but never keys, secrets or event contents', async () => {
    const marker = `PHI-marker-${randomUUID()}`;
    await post(JSON.stringify([ev({ patient: { id: marker } })]), { 'x-request-id': 'req-log-test-1' });
    await post(JSON.stringify([ev({ patient: { id: marker }, actor: { userId: '' } })]), {
      'x-request-id': 'req-log-test-2',
    });
    await post(JSON.stringify([ev({ patient: { id: marker } })]), {}, `${keyA}x`);
    const all = logLines.join('');
    expect(all).toContain('"requestId":"req-log-test-1"');
    expect(logLines.some((l) => l.includes('req-log-test-1') && l.includes('"tenant":"clinic-a"'))).toBe(true);
    const secrets = [
      keyA,
      keyB,
      keyA.slice('phia_'.length + 17),
      marker,
      'PHI-user-drsmith',
      'PHI-Name',
      'PHI-patient',
      'Bearer ',
    ];
    // On failure this names the secret and shows the offending line (truncated) rather than just "false".
    const leaks = logLines.flatMap((line) =>
      secrets.filter((s) => line.includes(s)).map((s) => `${s.slice(0, 12)}… in ${line.slice(0, 300)}`),
    );
    expect(leaks).toEqual([]);
  });
});
