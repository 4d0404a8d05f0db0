import { Worker } from 'node:worker_threads';
import { errorSummary, type BusLogger, type EventPublisher, type PublisherStats } from '@phi-audit/bus-kafka';
import { StoreError, STORE_ERROR_CODES, type StoreErrorCode } from '@phi-audit/store-sqlite';
import type { EmbeddedMetrics } from './embedded-metrics.js';
import { EmbeddedError } from './errors.js';
import type {
  FromLedgerWorker,
  LedgerWorkerData,
  ToLedgerWorker,
  WorkerCheckpointSettings,
} from './ledger-worker-protocol.js';
import { prepareEvents, type PreparedEvent } from './prepared-event.js';

export interface EmbeddedLedgerOptions {
  /** The ledger database file (already created and migrated); the writer thread opens its own connection. */
  file: string;
  /** SQLite max_page_count for the write connection (PHI_AUDIT_MAX_DB_PAGES). */
  maxPageCount?: number;
  logger: BusLogger;
  /** Events per transaction before a group is split (a request is never split). Default 20,000. */
  maxGroupEvents?: number;
  metrics?: EmbeddedMetrics;
  /** The writer thread's script. Default: the built ledger-worker.js next to this module. */
  workerUrl?: URL;
  /**
   * Merkle tiles and signed checkpoints, kept by the writer thread. Absent: records only (a
   * benchmark measuring their cost; never a real ledger).
   */
  checkpoints?: WorkerCheckpointSettings;
}

/** Counters of what the ledger did; group commit shows as `sends` (transactions) ≪ `publishes`. */
export interface EmbeddedLedgerStats extends PublisherStats {
  /** Events acknowledged without a new record: their idempotency key was already stored. */
  duplicates: number;
}

/** The embedded mode's EventPublisher: events go straight into the SQLite ledger. */
export interface EmbeddedLedger extends EventPublisher {
  stats(): EmbeddedLedgerStats;
}

interface Pending {
  events: PreparedEvent[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface InFlight {
  id: number;
  group: Pending[];
  events: number;
  started: bigint;
}

export const DEFAULT_MAX_GROUP_EVENTS = 20_000;

/** Takes whole requests off the front of the queue, up to `max` events (at least one request). */
function takeGroup(queue: Pending[], max: number): Pending[] {
  let events = 0;
  let count = 0;
  for (const p of queue) {
    if (count > 0 && events + p.events.length > max) break;
    events += p.events.length;
    count += 1;
  }
  return queue.splice(0, count);
}

/**
 * The built writer thread script. From the TypeScript sources (vitest) that is the build output:
 * Node 20 cannot run a .ts file in a worker.
 */
function defaultWorkerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/ledger-worker.js', import.meta.url)
    : new URL('./ledger-worker.js', import.meta.url);
}

function storeErrorOf(code: string | undefined, message: string): StoreError | Error {
  return code !== undefined && code in STORE_ERROR_CODES
    ? new StoreError(code as StoreErrorCode, message)
    : new Error(message);
}

function failureOf(cause: Error): EmbeddedError {
  return (cause as { code?: unknown }).code === 'STORE_FULL'
    ? new EmbeddedError(
        'EMBEDDED_STORAGE_FULL',
        'the ledger disk is full (or its PHI_AUDIT_MAX_DB_PAGES quota is reached); nothing was stored',
        { cause },
      )
    : new EmbeddedError('EMBEDDED_STORE_FAILED', 'the ledger transaction failed; nothing was stored', { cause });
}

/**
 * Creates the embedded ledger. publish() validates each event against AccessEventSchema and
 * prepares it (canonical JSON, query columns) on the calling thread; the SQLite write connection
 * lives in a writer thread (ledger-worker.ts), which deduplicates, chains and commits each group
 * in ONE transaction (synchronous=FULL) while this thread keeps reading and validating requests.
 * Group commit: one group is in the writer at a time; every publish() that arrives meanwhile
 * joins the next group (whole requests, up to `maxGroupEvents`). Each caller settles after its
 * group's transaction has committed, or failed: then nothing of the group was stored. A writer
 * thread that dies fails its group (nothing of it is acknowledged) and is replaced on the next
 * group by a new one, which reloads heads, tiles and sequence from the database. With
 * `checkpoints`, the writer thread also keeps each log's Merkle tiles (written in the group's
 * transaction) and signs checkpoints after the commits (createCheckpointer); close() waits
 * for the final checkpoints.
 */
export function createEmbeddedLedger(options: EmbeddedLedgerOptions): EmbeddedLedger {
  const { logger, metrics } = options;
  const maxGroupEvents = options.maxGroupEvents ?? DEFAULT_MAX_GROUP_EVENTS;
  const workerData: LedgerWorkerData = {
    file: options.file,
    ...(options.maxPageCount !== undefined ? { maxPageCount: options.maxPageCount } : {}),
    ...(options.checkpoints !== undefined ? { checkpoints: options.checkpoints } : {}),
  };
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const queue: Pending[] = [];
  let worker: Worker | undefined;
  let inFlight: InFlight | undefined;
  let nextId = 1;
  let closing: Promise<void> | undefined;
  let lastCommitFailed = false;
  const idle: (() => void)[] = [];
  const stats: EmbeddedLedgerStats = { publishes: 0, sends: 0, events: 0, failedSends: 0, duplicates: 0 };

  const seconds = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;

  function fail(flight: InFlight, cause: Error): void {
    lastCommitFailed = true;
    const failure = failureOf(cause);
    const outcome = failure.code === 'EMBEDDED_STORAGE_FULL' ? 'storage_full' : 'failed';
    stats.failedSends += 1;
    metrics?.transactions.inc({ outcome });
    metrics?.commitSeconds.observe({ outcome }, seconds(flight.started));
    logger.error(
      { ...errorSummary(failure), requests: flight.group.length, events: flight.events },
      'ledger commit failed; nothing of the group was stored',
    );
    for (const p of flight.group) p.reject(failure);
  }

  function settle(message: FromLedgerWorker): void {
    if (message.type === 'closed') return;
    if (message.type === 'log') {
      logger[message.level]({ thread: 'ledger-writer', ...message.obj }, message.msg);
      return;
    }
    const flight = inFlight;
    if (flight === undefined || flight.id !== message.id) return;
    inFlight = undefined;
    switch (message.type) {
      case 'committed': {
        lastCommitFailed = false;
        let accepted = 0;
        message.outcomes.forEach((outcome, i) => {
          const p = flight.group[i] as Pending;
          if (outcome.ok) {
            accepted += 1;
            p.resolve();
            return;
          }
          logger.error({ events: p.events.length, reason: outcome.reason }, 'events refused by the ledger writer');
          p.reject(new EmbeddedError('EMBEDDED_STORE_FAILED', `${outcome.reason}; nothing was stored`));
        });
        stats.sends += 1;
        stats.publishes += accepted;
        stats.events += message.records;
        stats.duplicates += message.duplicates;
        metrics?.transactions.inc({ outcome: 'committed' });
        metrics?.eventsCommitted.inc(message.records);
        metrics?.duplicatesSkipped.inc(message.duplicates);
        metrics?.groupEvents.observe(flight.events);
        metrics?.commitSeconds.observe({ outcome: 'committed' }, seconds(flight.started));
        break;
      }
      case 'failed':
        fail(flight, storeErrorOf(message.code, message.message));
        break;
      default:
        message satisfies never;
    }
    pump();
  }

  function startWorker(): Worker {
    const w = new Worker(workerUrl, { workerData });
    w.on('message', (message: FromLedgerWorker) => settle(message));
    w.on('error', (error) => {
      logger.error(errorSummary(error), 'the ledger writer thread failed');
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      const flight = inFlight;
      if (flight !== undefined) {
        // Its transaction either never committed or committed unacknowledged: a retry is
        // idempotent, and the next writer reloads heads and sequence from the database.
        inFlight = undefined;
        fail(flight, new Error(`the ledger writer thread stopped (exit code ${code})`));
      }
      pump();
    });
    return w;
  }

  /** Sends the next group when the writer is free. */
  function pump(): void {
    if (inFlight !== undefined) return;
    if (queue.length === 0) {
      for (const wake of idle.splice(0)) wake();
      return;
    }
    const group = takeGroup(queue, maxGroupEvents);
    worker ??= startWorker();
    inFlight = {
      id: nextId++,
      group,
      events: group.reduce((n, p) => n + p.events.length, 0),
      started: process.hrtime.bigint(),
    };
    const message: ToLedgerWorker = { type: 'commit', id: inFlight.id, requests: group.map((p) => p.events) };
    worker.postMessage(message);
  }

  // Started now, not on the first group: at start the writer signs checkpoints for logs that
  // grew after their last one (a crash before signing), even when no event arrives.
  worker = startWorker();

  return {
    publish(events) {
      if (closing !== undefined) {
        return Promise.reject(new EmbeddedError('EMBEDDED_CLOSED', 'the ledger is shutting down; nothing was stored'));
      }
      if (events.length === 0) return Promise.resolve();
      let prepared: PreparedEvent[];
      try {
        // Here rather than in the writer thread: this thread has CPU to spare during commits.
        prepared = prepareEvents(events);
      } catch (error) {
        logger.error({ ...errorSummary(error), events: events.length }, 'events refused by the embedded ledger');
        return Promise.reject(
          error instanceof Error
            ? error
            : new EmbeddedError('EMBEDDED_STORE_FAILED', 'the events could not be prepared; nothing was stored'),
        );
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ events: prepared, resolve, reject });
        pump();
      });
    },
    isReady() {
      return Promise.resolve(closing === undefined && !lastCommitFailed);
    },
    stats() {
      return { ...stats };
    },
    close() {
      closing ??= (async () => {
        // Everything queued before close() is committed (or rejected) before this resolves.
        if (inFlight !== undefined || queue.length > 0) await new Promise<void>((resolve) => idle.push(resolve));
        const w = worker;
        if (w === undefined) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.postMessage({ type: 'close' } satisfies ToLedgerWorker);
        await exited;
      })();
      return closing;
    },
  };
}
