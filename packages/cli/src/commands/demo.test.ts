import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runDemo, type DemoOptions } from './demo.js';

// The real collector is exercised in test/e2e/demo.test.ts; a bus outage (503) cannot be caused
// there without stopping shared services, so this scripted endpoint plays the collector's 503
// (and a reference API that is missing, unconfigured or refusing the key).
let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

type Answer = { status: number; body: unknown };
/** One request as received: events (their ids) or a reference load (its kind and records). */
type Received =
  { type: 'events'; ids: string[] } | { type: 'reference'; kind: string; records: Record<string, unknown>[] };

const REFERENCE_OK = (kind: string, records: unknown[]): Answer => ({
  status: 200,
  body: { tenant: 't', kind, version: 1, count: records.length },
});

async function collector(
  answer: (ids: string[], n: number) => Answer,
  referenceAnswer: (kind: string, records: unknown[]) => Answer = REFERENCE_OK,
): Promise<{ url: string; requests: string[][]; received: Received[] }> {
  const requests: string[][] = [];
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      let reply: Answer;
      const kind = /^\/v1\/reference\/(\w+)$/.exec(req.url ?? '')?.[1];
      if (kind !== undefined) {
        const { records } = JSON.parse(text) as { records: Record<string, unknown>[] };
        received.push({ type: 'reference', kind, records });
        reply = referenceAnswer(kind, records);
      } else {
        const ids = (JSON.parse(text) as { eventId: string }[]).map((e) => e.eventId);
        requests.push(ids);
        received.push({ type: 'events', ids });
        reply = answer(ids, requests.length);
      }
      res
        .writeHead(reply.status, { 'content-type': 'application/json', 'retry-after': '0' })
        .end(JSON.stringify(reply.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  close = () => new Promise((r) => server.close(() => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, received };
}

/** Collects what the demo writes to stderr. */
function capture(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write: (c: Buffer, _e, done) => {
        text += c.toString('utf8');
        done();
      },
    }),
    text: () => text,
  };
}

const quiet = new Writable({ write: (_c, _e, done) => done() });
const options = (url: string, extra: Partial<DemoOptions> = {}): DemoOptions => ({
  url,
  key: 'k',
  profile: 'hospital',
  rate: 100,
  durationSeconds: 1,
  seed: 1,
  batch: 25,
  sinceDays: 7,
  err: quiet,
  isTTY: false,
  signal: new AbortController().signal,
  ...extra,
});

describe('runDemo', () => {
  it('retries a 503 with the same event ids, then counts them accepted once', async () => {
    const { url, requests } = await collector((ids, n) =>
      n === 2
        ? { status: 503, body: { error: { code: 'INGEST_UNAVAILABLE', message: 'retry later' } } }
        : { status: 202, body: { accepted: ids.length, eventIds: ids } },
    );
    const summary = await runDemo(options(url));
    expect(summary.sent).toBe(100);
    expect(summary.accepted).toBe(100);
    expect(summary.retries).toBe(1);
    expect(requests[2]).toEqual(requests[1]);
    expect(new Set(requests.flat()).size).toBe(100);
  });

  it('stops on a 4xx with the server message, without retrying', async () => {
    const { url, requests } = await collector(() => ({
      status: 400,
      body: {
        error: { code: 'INGEST_INVALID_EVENT', message: 'bad', details: [{ message: 'actor.userId is required' }] },
      },
    }));
    await expect(runDemo(options(url))).rejects.toThrow(/400 INGEST_INVALID_EVENT: bad \(first problem: actor.userId/);
    expect(requests).toHaveLength(1);
  });

  it("loads the facility's reference data before any event, then each day's relationships a day ahead", async () => {
    const { url, received } = await collector((ids) => ({
      status: 202,
      body: { accepted: ids.length, eventIds: ids },
    }));
    // A clinic at 3,000 events/s crosses several simulated days in 2 s.
    const summary = await runDemo(options(url, { profile: 'clinic', rate: 3000, durationSeconds: 2, batch: 500 }));
    const loads = received.filter((r) => r.type === 'reference');
    expect(received.slice(0, 3).map((r) => (r.type === 'reference' ? r.kind : r.type))).toEqual([
      'workforce',
      'patients',
      'relationships',
    ]);
    const [workforce, patients, first] = loads;
    expect(workforce?.records.length).toBe(9);
    expect(patients?.records.length).toBe(1500);
    expect(patients?.records[0]).toMatchObject({ id: expect.any(String), vip: expect.any(Boolean) });
    expect(first?.records.length).toBeGreaterThan(100);
    const later = loads.slice(3);
    expect(later.length).toBeGreaterThanOrEqual(2);
    expect(later.every((l) => l.kind === 'relationships' && l.records.length > 0)).toBe(true);
    // Every relationship of a later day starts after the relationships loaded before it.
    const firstFrom = Math.min(...(first?.records ?? []).map((r) => r.validFrom as number));
    for (const l of later) expect(Math.min(...l.records.map((r) => r.validFrom as number))).toBeGreaterThan(firstFrom);
    expect(summary.referenceLoads).toBe(loads.length);
    expect(summary.referenceRecords).toBe(loads.reduce((n, l) => n + l.records.length, 0));
    expect(summary.accepted).toBe(summary.sent);
  });

  it('warns once and sends events when the server has no reference data (404 / 503)', async () => {
    for (const status of [404, 503]) {
      const { url, received } = await collector(
        (ids) => ({ status: 202, body: { accepted: ids.length, eventIds: ids } }),
        () => ({ status, body: { error: { code: 'REFERENCE_NOT_CONFIGURED', message: 'needs the store' } } }),
      );
      const err = capture();
      const summary = await runDemo(options(url, { err: err.stream }));
      expect(summary.accepted).toBe(100);
      expect(summary.referenceLoads).toBe(0);
      expect(received.filter((r) => r.type === 'reference')).toHaveLength(1); // no retries
      expect(err.text().match(/warning: reference data was not loaded/g)).toHaveLength(1);
      expect(err.text()).toContain(`${status} REFERENCE_NOT_CONFIGURED: needs the store`);
      await close?.();
      close = undefined;
    }
  });

  it('stops before any event when the reference API refuses the key', async () => {
    const { url, requests } = await collector(
      (ids) => ({ status: 202, body: { accepted: ids.length, eventIds: ids } }),
      () => ({
        status: 401,
        body: { error: { code: 'REFERENCE_UNAUTHORIZED', message: 'unknown or revoked ingest key' } },
      }),
    );
    await expect(runDemo(options(url))).rejects.toThrow(/401 REFERENCE_UNAUTHORIZED: unknown or revoked ingest key/);
    expect(requests).toHaveLength(0);
  });

  it('sends no reference data with reference: false (--no-reference)', async () => {
    const { url, received } = await collector((ids) => ({
      status: 202,
      body: { accepted: ids.length, eventIds: ids },
    }));
    await runDemo(options(url, { reference: false }));
    expect(received.every((r) => r.type === 'events')).toBe(true);
  });

  it('ends cleanly when interrupted', async () => {
    const { url } = await collector((ids) => ({ status: 202, body: { accepted: ids.length, eventIds: ids } }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    // Without reference data: the hospital's initial load takes longer than the 300 ms before the abort.
    const summary = await runDemo(options(url, { durationSeconds: 0, signal: controller.signal, reference: false }));
    expect(summary.sent).toBeGreaterThan(0);
    expect(summary.sent).toBeLessThan(100);
    expect(summary.accepted).toBe(summary.sent);
  });
});
