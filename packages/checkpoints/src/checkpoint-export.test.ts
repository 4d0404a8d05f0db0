import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateNoteKey,
  openCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  type StoredCheckpoint,
} from '@phi-audit/ledger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  exportFileName,
  postCheckpoint,
  readExportedCheckpoints,
  writeExportedCheckpoint,
} from './checkpoint-export.js';
import { isCheckpointError } from './errors.js';

const KEY = generateNoteKey('phi-audit/access-events/0');
const SIGNER = parseSignerKey(KEY.signerKey);
const VERIFIER = parseVerifierKey(KEY.verifierKey);

function stored(origin: string, size: number, rootByte = size % 256): StoredCheckpoint {
  const root = Buffer.alloc(32, rootByte);
  return {
    origin,
    size,
    rootHex: root.toString('hex'),
    note: signCheckpoint({ origin, size, root }, SIGNER),
    signedAt: 1_714_573_800_000,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phi-audit-export-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeExportedCheckpoint / readExportedCheckpoints', () => {
  it('round-trips the latest checkpoint of each log through the directory', async () => {
    const exportDir = join(dir, 'exports');
    const a = stored('phi-audit/access-events/0', 10);
    const b = stored('phi-audit/access-events/1', 3);
    await writeExportedCheckpoint(exportDir, a);
    await writeExportedCheckpoint(exportDir, b);
    const a2 = stored('phi-audit/access-events/0', 25);
    await writeExportedCheckpoint(exportDir, a2);
    expect(statSync(exportDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(exportDir).sort()).toEqual([
      'phi-audit%2Faccess-events%2F0.checkpoint',
      'phi-audit%2Faccess-events%2F1.checkpoint',
    ]);
    const notes = await readExportedCheckpoints(exportDir);
    expect(notes).toEqual([
      { note: a2.note, source: join(exportDir, exportFileName(a2.origin)) },
      { note: b.note, source: join(exportDir, exportFileName(b.origin)) },
    ]);
    const opened = notes.map((n) => openCheckpoint(n.note, [VERIFIER]).checkpoint);
    expect(opened.map((c) => [c.origin, c.size])).toEqual([
      ['phi-audit/access-events/0', 25],
      ['phi-audit/access-events/1', 3],
    ]);
  });

  it('keeps origins that need escaping apart, including ones starting with a dot', async () => {
    const origins = ['.hidden', 'a b/ü', 'a%2Fb', 'a/b'];
    for (const origin of origins) await writeExportedCheckpoint(dir, stored(origin, 1));
    const notes = await readExportedCheckpoints(dir);
    expect(notes.map((n) => openCheckpoint(n.note, [VERIFIER]).checkpoint.origin).sort()).toEqual([...origins].sort());
  });

  it('rewrites the same checkpoint, but never goes back to a smaller size or another root', async () => {
    const latest = stored('log', 10);
    await writeExportedCheckpoint(dir, latest);
    await writeExportedCheckpoint(dir, latest);
    const older = await rejection(writeExportedCheckpoint(dir, stored('log', 9)));
    expect(isCheckpointError(older, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect(older.message).toContain('size 10 with size 9');
    const forked = await rejection(writeExportedCheckpoint(dir, stored('log', 10, 99)));
    expect(isCheckpointError(forked, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect((await readExportedCheckpoints(dir)).map((n) => n.note)).toEqual([latest.note]);
    expect(readdirSync(dir)).toEqual([exportFileName('log')]);
  });

  it('ends with the newest of concurrent writes of one log', async () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8];
    const results = await Promise.allSettled(sizes.map((size) => writeExportedCheckpoint(dir, stored('log', size))));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const [only] = await readExportedCheckpoints(dir);
    expect(openCheckpoint(only?.note ?? '', [VERIFIER]).checkpoint.size).toBe(8);
  });

  it('refuses to replace a file that is not a checkpoint note', async () => {
    writeFileSync(join(dir, exportFileName('log')), 'garbage');
    const err = await rejection(writeExportedCheckpoint(dir, stored('log', 1)));
    expect(isCheckpointError(err, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect(readFileSync(join(dir, exportFileName('log')), 'utf8')).toBe('garbage');
  });

  it('never lists a partially written temporary file as a checkpoint', async () => {
    const latest = stored('log', 5);
    await writeExportedCheckpoint(dir, latest);
    // What a crash between open and rename leaves behind.
    const partial = latest.note.slice(0, 20);
    writeFileSync(join(dir, `${exportFileName('log')}.4242.0123456789ab.tmp`), partial);
    const notes = await readExportedCheckpoints(dir);
    expect(notes.map((n) => n.note)).toEqual([latest.note]);
  });

  it('fails without leaving a temporary file when the target is not a file', async () => {
    const target = join(dir, exportFileName('log'));
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    const err = await rejection(writeExportedCheckpoint(dir, stored('log', 1)));
    expect(isCheckpointError(err, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect(readdirSync(dir)).toEqual([exportFileName('log')]);
  });

  it('rejects CHECKPOINT_EXPORT_UNREADABLE for a missing directory and for a file that is not UTF-8', async () => {
    const missing = await rejection(readExportedCheckpoints(join(dir, 'missing')));
    expect(isCheckpointError(missing, 'CHECKPOINT_EXPORT_UNREADABLE')).toBe(true);
    writeFileSync(join(dir, 'x.checkpoint'), Buffer.from([0x6f, 0xff, 0x0a]));
    const binary = await rejection(readExportedCheckpoints(dir));
    expect(isCheckpointError(binary, 'CHECKPOINT_EXPORT_UNREADABLE')).toBe(true);
    expect(binary.message).toContain('x.checkpoint');
  });

  it('reads an empty directory as no checkpoints and ignores other files', async () => {
    expect(await readExportedCheckpoints(dir)).toEqual([]);
    writeFileSync(join(dir, 'README'), 'not a checkpoint');
    mkdirSync(join(dir, 'sub.checkpoint'));
    expect(await readExportedCheckpoints(dir)).toEqual([]);
  });
});

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('postCheckpoint', () => {
  let server: Server;
  let received: Received[];
  let status: number;
  let delayMs: number;
  let baseUrl: string;

  beforeEach(async () => {
    received = [];
    status = 204;
    delayMs = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        setTimeout(() => {
          res.statusCode = status;
          if (status === 307) res.setHeader('location', '/elsewhere');
          res.end(status === 204 ? undefined : 'answer body');
        }, delayMs);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('POSTs the note as UTF-8 text with the log header and bearer token', async () => {
    const checkpoint = stored('phi-audit/access-events/0', 7);
    await postCheckpoint(`${baseUrl}/checkpoints`, checkpoint, { token: 's3cret-token' });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/checkpoints');
    expect(request?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(request?.headers['x-phi-audit-log']).toBe('phi-audit/access-events/0');
    expect(request?.headers.authorization).toBe('Bearer s3cret-token');
    expect(request?.body).toBe(checkpoint.note);
    expect(openCheckpoint(request?.body ?? '', [VERIFIER]).checkpoint.size).toBe(7);
  });

  it('sends no Authorization header without a token', async () => {
    status = 200;
    await postCheckpoint(`${baseUrl}/c`, stored('log', 1));
    expect(received[0]?.headers.authorization).toBeUndefined();
  });

  it.each([400, 401, 500, 503, 307])('rejects CHECKPOINT_WRITE_FAILED on HTTP %i, without the token', async (code) => {
    status = code;
    const err = await rejection(postCheckpoint(`${baseUrl}/c?k=v`, stored('log', 1), { token: 'tok-123' }));
    expect(isCheckpointError(err, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect(err.message).toContain(`HTTP ${code}`);
    expect(err.message).not.toMatch(/tok-123|k=v/);
    expect(received).toHaveLength(1); // a redirect is not followed
  });

  it('rejects a URL with credentials without naming them', async () => {
    const err = await rejection(
      postCheckpoint(`http://user:pw@127.0.0.1:${new URL(baseUrl).port}/c`, stored('log', 1)),
    );
    expect(isCheckpointError(err, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect(err.message).not.toContain('pw');
  });

  it('rejects CHECKPOINT_WRITE_FAILED when the endpoint is too slow', async () => {
    delayMs = 2_000;
    const err = await rejection(postCheckpoint(`${baseUrl}/c`, stored('log', 1), { timeoutMs: 100 }));
    expect(isCheckpointError(err, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
    expect(err.message).toContain('timed out');
  });

  it('rejects CHECKPOINT_WRITE_FAILED when nothing listens', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const err = await rejection(postCheckpoint(`http://127.0.0.1:${port}/c`, stored('log', 1)));
    expect(isCheckpointError(err, 'CHECKPOINT_WRITE_FAILED')).toBe(true);
  });
});
