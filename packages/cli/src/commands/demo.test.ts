import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runDemo, type DemoOptions } from './demo.js';

// The real collector is exercised in test/e2e/demo.test.ts; a bus outage (503) cannot be caused
// there without stopping shared services, so this scripted endpoint plays the collector's 503.
let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

async function collector(
  answer: (ids: string[], n: number) => { status: number; body: unknown },
): Promise<{ url: string; requests: string[][] }> {
  const requests: string[][] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const ids = (JSON.parse(text) as { eventId: string }[]).map((e) => e.eventId);
      requests.push(ids);
      const { status, body } = answer(ids, requests.length);
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify(body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  close = () => new Promise((r) => server.close(() => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
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

  it('ends cleanly when interrupted', async () => {
    const { url } = await collector((ids) => ({ status: 202, body: { accepted: ids.length, eventIds: ids } }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const summary = await runDemo(options(url, { durationSeconds: 0, signal: controller.signal }));
    expect(summary.sent).toBeGreaterThan(0);
    expect(summary.sent).toBeLessThan(100);
    expect(summary.accepted).toBe(summary.sent);
  });
});
