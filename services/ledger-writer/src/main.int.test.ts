import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originFor } from '@phi-audit/bus-kafka';
import { createSigningKeyFile, exportFileName } from '@phi-audit/checkpoints';
import { openCheckpoint, parseVerifierKey, rootOfLeafHashes, verifyLog } from '@phi-audit/ledger';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const clickhouseUrl = process.env.CLICKHOUSE_URL ?? '';
const run = (brokers.length > 0 && clickhouseUrl !== '') || process.env.CI === 'true';
const root = fileURLToPath(new URL('../../../', import.meta.url));
const entry = `${root}services/ledger-writer/dist/main.js`;
const database = `lw_main_${randomBytes(6).toString('hex')}`;
const keyDir = mkdtempSync(join(tmpdir(), 'lw-main-key-'));
const keyFile = join(keyDir, 'signing.key');
const exportDir = join(keyDir, 'exported');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function spawnWriter(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
  let out = '';
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(pred)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.runIf(run)('ledger-writer as a process (built dist/main.js)', () => {
  beforeAll(() => {
    createSigningKeyFile({ name: 'lw-main-test', file: keyFile });
    // The process runs the build output, as a deployment would.
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', `${root}services/ledger-writer`], {
      stdio: 'inherit',
    });
  }, 180_000);
  afterAll(async () => {
    const u = new URL(clickhouseUrl);
    const auth = Buffer.from(
      `${decodeURIComponent(u.username) || 'default'}:${decodeURIComponent(u.password)}`,
    ).toString('base64');
    await fetch(`${u.protocol}//${u.host}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${auth}` },
      body: `DROP DATABASE IF EXISTS ${database}`,
    });
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('runs from environment variables, serves /metrics and /healthz, logs no PHI, and exits 0 on SIGTERM after committing', async () => {
    const tag = randomUUID().slice(0, 8);
    const topic = `lw-main-${tag}`;
    const groupId = `lw-main-${tag}`;
    const port = await freePort();
    const w = spawnWriter({
      KAFKA_BROKERS: brokers.join(','),
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: groupId,
      KAFKA_PARTITIONS: '2',
      PHI_AUDIT_MIGRATE: 'true',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'debug',
      CHECKPOINT_SIGNING_KEY_FILE: keyFile,
      CHECKPOINT_EXPORT_DIR: exportDir,
    });
    try {
      await until('/healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200);
      const kafka = new Kafka({ clientId: 'lw-main-test', brokers, logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const marker = `PHI-MARKER-${tag}`;
      const events = Array.from({ length: 100 }, (_, i) => ({
        eventId: `${tag}-${i}`,
        tenant: 'clinic-main',
        occurredAt: 1_700_000_000_000 + i,
        receivedAt: 1_700_000_000_000 + i,
        source: { system: 'ehr' },
        actor: { userId: `${marker}-user-${i % 3}` },
        patient: { id: `${marker}-patient-${i}` },
        action: 'view',
        resource: { type: 'Patient' },
        outcome: 'success',
      }));
      await producer.send({
        topic,
        acks: -1,
        messages: [
          ...events.map((e, i) => ({
            partition: i % 2,
            key: `clinic-main:${e.actor.userId}`,
            value: JSON.stringify(e),
          })),
          { partition: 0, key: null, value: JSON.stringify({ ...events[0], patient: { id: marker, ssn: marker } }) },
        ],
      });
      await producer.disconnect();
      const written = async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const lines = text.split('\n').filter((l) => l.startsWith('phi_audit_writer_records_written_total{'));
        return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
      };
      await until('100 records written', async () => (await written()) === 100);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/phi_audit_writer_rejected_total\{partition="0",kind="invalid_event"\} 1/);
      expect(metrics).toMatch(/phi_audit_writer_consumer_lag\{partition="[01]"\} \d+/);
      expect(metrics).toMatch(/phi_audit_writer_process_resident_memory_bytes \d+/);

      w.child.kill('SIGTERM');
      expect(await w.exit).toBe(0);
      const logs = w.output();
      expect(logs).toContain('ledger-writer started');
      expect(logs).toContain('ledger-writer stopped');
      expect(logs).not.toContain(marker);
      // The signer key's secret part never reaches the logs.
      expect(logs).not.toContain(readFileSync(keyFile, 'utf8').trim().split('+').slice(4).join('+'));

      const admin = kafka.admin();
      await admin.connect();
      const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
        .map((p) => Number(p.offset))
        .sort();
      await admin.disconnect();
      expect(committed).toEqual([50, 51]);
      const store = createClickHouseLedgerStore({ url: clickhouseUrl, database });
      try {
        for (const p of [0, 1]) {
          const v = await verifyLog({ origin: originFor(topic, p), records: store.scan(originFor(topic, p)) });
          expect(v.ok).toBe(true);
          expect(v.head.size).toBe(50);
          // Stopped gracefully: the last checkpoint covers the whole log and is exported.
          const origin = originFor(topic, p);
          const latest = await store.latestCheckpoint(origin);
          const leaves: Buffer[] = [];
          for await (const r of store.scan(origin)) leaves.push(Buffer.from(r.leafHash, 'hex'));
          const verifier = parseVerifierKey(readFileSync(`${keyFile}.pub`, 'utf8').trim());
          expect(openCheckpoint(latest!.note, [verifier]).checkpoint).toEqual({
            origin,
            size: 50,
            root: rootOfLeafHashes(leaves),
          });
          expect(readFileSync(join(exportDir, exportFileName(origin)), 'utf8')).toBe(latest!.note);
        }
      } finally {
        await store.close();
      }
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
  });

  it('exits 1 naming every configuration problem, without echoing credentials', async () => {
    const w = spawnWriter({
      CLICKHOUSE_URL: 'ftp://writer:hunter2-secret@x',
      KAFKA_PARTITIONS: 'many',
      LOG_LEVEL: 'chatty',
    });
    expect(await w.exit).toBe(1);
    const out = w.output();
    for (const name of [
      'KAFKA_BROKERS',
      'CLICKHOUSE_URL',
      'KAFKA_PARTITIONS',
      'LOG_LEVEL',
      'WRITER_CONFIG_INVALID',
      'CHECKPOINT_SIGNING_KEY_FILE',
      'CHECKPOINT_SIGNING_KEY',
      'phi-audit signing-key create',
    ])
      expect(out).toContain(name);
    expect(out).not.toContain('hunter2');
  });

  it('exits 1 when the signing key file is readable by others, naming the file and never the key', async () => {
    const loose = join(keyDir, 'loose.key');
    createSigningKeyFile({ name: 'lw-main-loose', file: loose });
    chmodSync(loose, 0o644);
    const w = spawnWriter({
      KAFKA_BROKERS: brokers.join(','),
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      CHECKPOINT_SIGNING_KEY_FILE: loose,
    });
    expect(await w.exit).toBe(1);
    const out = w.output();
    expect(out).toContain('CHECKPOINT_KEY_UNAVAILABLE');
    expect(out).toContain(loose);
    expect(out).not.toContain(readFileSync(loose, 'utf8').trim().split('+').slice(4).join('+'));
  });
});
