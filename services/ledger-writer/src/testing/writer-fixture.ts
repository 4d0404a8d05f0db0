import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFileName } from '@phi-audit/checkpoints';
import {
  generateNoteKey,
  openCheckpoint,
  rootOfLeafHashes,
  type Checkpoint,
  type StoredCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
  type StoredRecord,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createClickHouseLedgerStore, type ClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import { Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { createLedgerWriter, type LedgerWriter, type LedgerWriterOptions } from '../ledger-writer.js';

/**
 * The real Kafka + real ClickHouse fixture shared by the writer's integration tests: a private
 * database, a Kafka admin and idempotent producer, writers that are closed at teardown.
 */
export interface WriterFixture {
  /** False when neither the services nor CI=true are present (the suite is skipped). */
  readonly run: boolean;
  readonly brokers: string[];
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly store: ClickHouseLedgerStore;
  /** The checkpoint key every writer of this fixture signs with, and its verifier. */
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** Where the fixture's writers export checkpoints (a temp directory removed at teardown). */
  readonly exportDir: string;
  setup: () => Promise<void>;
  teardown: () => Promise<void>;
  /**
   * A writer on `topic` with fast test fetch settings, signing checkpoints every 100 records or
   * 500 ms and exporting them to `exportDir`; closed by teardown.
   */
  startWriter: (topic: string, groupId: string, options?: Partial<LedgerWriterOptions>) => LedgerWriter;
  /** Produces events as the collector does: keyed tenant:userId, acks=all. */
  produce: (topic: string, events: readonly AccessEvent[]) => Promise<void>;
  /** Every writer has no consumer lag left. */
  caughtUp: (...writers: LedgerWriter[]) => Promise<boolean>;
  /** Sum of a metric's values across labels. */
  metric: (writer: LedgerWriter, name: string) => Promise<number>;
  scanAll: (origin: string) => Promise<StoredRecord[]>;
  /** What the store and the export directory hold about a log's checkpoints, recomputed from its rows. */
  checkpointReport: (origin: string) => Promise<CheckpointReport>;
  until: (what: string, predicate: () => Promise<boolean>, ms?: number) => Promise<void>;
}

/** A log's checkpoint state: the facts the writer tests assert on. */
export interface CheckpointReport {
  /** Rows of the log (scan). */
  records: number;
  /** rootOfLeafHashes over the stored leaf hashes, hex. */
  recomputedRootHex: string;
  /** Leaves covered by the stored level-0 tiles. */
  tileCoverage: number;
  checkpoints: StoredCheckpoint[];
  latest: StoredCheckpoint | undefined;
  /** The latest note opened with the fixture's verifier (undefined when none or it does not verify). */
  opened: Checkpoint | undefined;
  /** The exported file of the log, if any. */
  exported: string | undefined;
}

/** Keyed as the collector keys it, so a re-sent event lands in the same partition. */
export const asMessage = (e: AccessEvent): Message => ({
  key: `${e.tenant}:${e.actor.userId}`,
  value: JSON.stringify(e),
});

export function createWriterFixture(name: string): WriterFixture {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  const clickhouseUrl = process.env.CLICKHOUSE_URL ?? '';
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const database = `${name}_${randomBytes(6).toString('hex')}`;
  const kafka = new Kafka({
    clientId: `${name}-test`,
    brokers: brokers.length ? brokers : ['127.0.0.1:1'],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const open: LedgerWriter[] = [];
  const keys = generateNoteKey(`${name}-test`);
  const signer = parseSignerKey(keys.signerKey);
  const verifier = parseVerifierKey(keys.verifierKey);
  const exportDir = join(mkdtempSync(join(tmpdir(), `${name}-checkpoints-`)), 'exported');
  let store: ClickHouseLedgerStore | undefined;
  const opened = (): ClickHouseLedgerStore => {
    if (store === undefined) throw new Error('writer fixture used before setup()');
    return store;
  };

  const fixture: WriterFixture = {
    run: (brokers.length > 0 && clickhouseUrl !== '') || process.env.CI === 'true',
    brokers,
    kafka,
    admin,
    producer,
    get store() {
      return opened();
    },
    signer,
    verifier,
    exportDir,
    async setup() {
      store = createClickHouseLedgerStore({ url: clickhouseUrl, database });
      await store.migrate();
      await admin.connect();
      await producer.connect();
    },
    async teardown() {
      await Promise.all(open.map((w) => w.close()));
      await producer.disconnect();
      await admin.disconnect();
      await store?.close();
      const u = new URL(clickhouseUrl);
      const auth = Buffer.from(`${decodeURIComponent(u.username) || 'default'}:${decodeURIComponent(u.password)}`);
      await fetch(`${u.protocol}//${u.host}/`, {
        method: 'POST',
        headers: { authorization: `Basic ${auth.toString('base64')}` },
        body: `DROP DATABASE IF EXISTS ${database}`,
      });
      rmSync(join(exportDir, '..'), { recursive: true, force: true });
    },
    startWriter(topic, groupId, options = {}) {
      const w = createLedgerWriter({
        brokers,
        topic,
        groupId,
        store: opened(),
        logger,
        partitions: 3,
        minBytes: 1,
        maxWaitTimeInMs: 50,
        processMetrics: false,
        checkpoints: { signer, policy: { everyRecords: 100, intervalMs: 500 }, exportTo: { dir: exportDir } },
        ...options,
      });
      open.push(w);
      return w;
    },
    async produce(topic, events) {
      await producer.send({ topic, acks: -1, messages: events.map(asMessage) });
    },
    async caughtUp(...writers) {
      for (const w of writers) if (!(await w.lag()).every((l) => l.lag === 0)) return false;
      return true;
    },
    async metric(w, metricName) {
      const m = (await w.registry.getMetricsAsJSON()).find((x) => x.name === metricName);
      return (m?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    },
    async scanAll(origin) {
      const rows: StoredRecord[] = [];
      for await (const r of opened().scan(origin)) rows.push(r);
      return rows;
    },
    async checkpointReport(origin) {
      const rows = await fixture.scanAll(origin);
      const checkpoints = await opened().checkpoints(origin);
      const latest = await opened().latestCheckpoint(origin);
      let openedCheckpoint: Checkpoint | undefined;
      try {
        if (latest !== undefined) openedCheckpoint = openCheckpoint(latest.note, [verifier]).checkpoint;
      } catch {
        openedCheckpoint = undefined;
      }
      let exported: string | undefined;
      try {
        exported = readFileSync(join(exportDir, exportFileName(origin)), 'utf8');
      } catch {
        exported = undefined;
      }
      return {
        records: rows.length,
        recomputedRootHex: rootOfLeafHashes(rows.map((r) => Buffer.from(r.leafHash, 'hex'))).toString('hex'),
        tileCoverage: await opened().tileCoverage(origin),
        checkpoints,
        latest,
        opened: openedCheckpoint,
        exported,
      };
    },
    async until(what, predicate, ms = 60_000) {
      const end = Date.now() + ms;
      while (!(await predicate())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  return fixture;
}
