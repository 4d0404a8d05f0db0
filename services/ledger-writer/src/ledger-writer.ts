import {
  createBatchConsumer,
  decodeEvent,
  ensureTopic,
  errorSummary,
  originFor,
  type BatchConsumer,
  type BusLogger,
  type ConsumedBatch,
  type PartitionLag,
} from '@phi-audit/bus-kafka';
import {
  createCheckpointer,
  loadLogTiles,
  type Checkpointer,
  type CheckpointExportOptions,
  type CheckpointPolicy,
} from '@phi-audit/checkpoints';
import {
  createChainBuilder,
  isLedgerError,
  type LedgerRecord,
  type LedgerStore,
  type LogHead,
  type LogTile,
  type NoteSigner,
  type TileBuilder,
} from '@phi-audit/ledger';
import type { Registry } from 'prom-client';
import { DedupeWindow, keyDigest } from './dedupe-window.js';
import { WriterError } from './errors.js';
import { createWriterMetrics, type WriterMetrics } from './metrics.js';
import { RejectedSink, type RejectedMessage } from './rejected-sink.js';

export interface LedgerWriterOptions {
  brokers: readonly string[];
  topic: string;
  groupId: string;
  store: LedgerStore;
  logger: BusLogger;
  clientId?: string;
  /** Partition count used only when the topic does not exist yet. Default 6. */
  partitions?: number;
  /** Partitions written at the same time. Default 3. */
  concurrency?: number;
  /** Fetch tuning passed to the consumer (bytes / ms); defaults bound memory at any lag. */
  minBytes?: number;
  maxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  /** Backoff of a failing batch (store down): first delay and cap, ms. Defaults 200 / 30,000. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * Group session timeout (ms). A writer killed without leaving keeps its partitions this long,
   * so a restarted writer resumes after it. Default 30,000.
   */
  sessionTimeout?: number;
  /**
   * Duplicate window per log (WRITER_DEDUPE_WINDOW): a message is skipped when a record with the
   * same (tenant, source system, event id) is among the previous this-many records of its log.
   * Default 100,000; costs 85–115 bytes of heap per record per log written by this member.
   */
  dedupeWindow?: number;
  /**
   * Signed checkpoints (CHECKPOINT_* variables): the key, the policy and where checkpoints are
   * exported. Required unless `merkle` is false.
   */
  checkpoints?: {
    signer: NoteSigner;
    policy?: Partial<CheckpointPolicy>;
    exportTo?: CheckpointExportOptions;
    /** Clock for the checkpointer, epoch ms (tests). Default Date.now. */
    now?: () => number;
  };
  /**
   * INTERNAL, not exposed through the environment: `false` writes records without Merkle tiles
   * and signs no checkpoints. Only the ingest benchmark sets it, to measure what tiles and
   * checkpoints cost; a ledger written so cannot detect truncation and serves no proofs.
   * Default true.
   */
  merkle?: boolean;
  /** Include process metrics (RSS, heap) in the registry. Default true. */
  processMetrics?: boolean;
  /** The consumer stopped for good; the process should exit non-zero and be restarted. */
  onFatal?: (err: WriterError) => void;
}

/** What the writer knows of one log it writes: both as confirmed by the store, reloaded together. */
interface LogState {
  head: LogHead;
  window: DedupeWindow;
  /** The log's Merkle tiles at `head.size` (undefined when merkle is off); appended to as records are built. */
  tiles: TileBuilder | undefined;
}

export const DEFAULT_DEDUPE_WINDOW = 100_000;

/**
 * Kafka → hash chain → store. One log per partition; a batch becomes one store append, and the
 * partition's offset is committed only after the store confirmed it. Two idempotency rules,
 * both pure functions of the log so that any replay yields the same rows:
 * - Kafka replays: offsets at or below the log's last stored source offset are skipped.
 * - Client retries (the same events sent again, at new offsets): a message is skipped when a
 *   record with the same (tenant, source.system, eventId) is among the previous N records of
 *   the same log (N = `dedupeWindow`). A retry carries the same partition key (tenant:userId),
 *   so it lands in the same log. Not caught: a re-sent event with a different actor (another
 *   partition, another log) or one more than N records after the original.
 */
export class LedgerWriter {
  readonly topic: string;
  readonly #options: LedgerWriterOptions;
  readonly #consumer: BatchConsumer;
  readonly #rejected: RejectedSink;
  readonly #metrics: WriterMetrics;
  /** Head and duplicate window of the logs this member writes, as confirmed by the store. */
  readonly #logs = new Map<number, LogState>();
  readonly #dedupeWindow: number;
  readonly #checkpointer: Checkpointer | undefined;
  #generation = 0;
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  #closed: Promise<void> | undefined;
  #starting: Promise<void> | undefined;

  constructor(options: LedgerWriterOptions) {
    this.#options = options;
    this.topic = options.topic;
    this.#dedupeWindow = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    if (!Number.isSafeInteger(this.#dedupeWindow) || this.#dedupeWindow < 1) {
      throw new WriterError('WRITER_CONFIG_INVALID', 'dedupeWindow must be a positive whole number');
    }
    if (options.merkle !== false && options.checkpoints === undefined) {
      // A ledger without signed checkpoints cannot detect truncation.
      throw new WriterError('WRITER_CONFIG_INVALID', 'a checkpoint signing key is required (checkpoints.signer)');
    }
    const clientId = options.clientId ?? 'phi-audit-ledger-writer';
    this.#rejected = new RejectedSink({
      brokers: options.brokers,
      sourceTopic: options.topic,
      clientId: `${clientId}-rejected`,
      logger: options.logger,
    });
    this.#consumer = createBatchConsumer({
      brokers: options.brokers,
      clientId,
      groupId: options.groupId,
      topic: options.topic,
      logger: options.logger,
      handler: (batch) => this.#handle(batch),
      onRebalance: () => {
        // Another member may have written these logs meanwhile: reload heads and windows from the store.
        this.#generation += 1;
        for (const partition of this.#logs.keys()) this.#checkpointer?.forget(originFor(this.topic, partition));
        this.#logs.clear();
      },
      onFatal: (err) => {
        this.#options.onFatal?.(
          new WriterError('WRITER_FATAL', `ledger writer for ${options.topic} stopped consuming`, { cause: err }),
        );
      },
      ...(options.concurrency !== undefined ? { partitionsConsumedConcurrently: options.concurrency } : {}),
      ...(options.minBytes !== undefined ? { minBytes: options.minBytes } : {}),
      ...(options.maxWaitTimeInMs !== undefined ? { maxWaitTimeInMs: options.maxWaitTimeInMs } : {}),
      ...(options.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
      ...(options.retryInitialMs !== undefined ? { retryInitialMs: options.retryInitialMs } : {}),
      ...(options.retryMaxMs !== undefined ? { retryMaxMs: options.retryMaxMs } : {}),
      ...(options.sessionTimeout !== undefined
        ? {
            sessionTimeout: options.sessionTimeout,
            heartbeatInterval: Math.min(3_000, Math.floor(options.sessionTimeout / 3)),
          }
        : {}),
    });
    this.#metrics = createWriterMetrics({
      lag: () => this.#consumer.lag(),
      ...(options.processMetrics !== undefined ? { processMetrics: options.processMetrics } : {}),
    });
    const checkpoints = options.checkpoints;
    this.#checkpointer =
      options.merkle === false || checkpoints === undefined
        ? undefined
        : createCheckpointer({
            signer: checkpoints.signer,
            store: options.store,
            logger: options.logger,
            ...(checkpoints.policy !== undefined ? { policy: checkpoints.policy } : {}),
            ...(checkpoints.exportTo !== undefined ? { exportTo: checkpoints.exportTo } : {}),
            ...(checkpoints.now !== undefined ? { now: checkpoints.now } : {}),
            hooks: {
              signed: (c) => {
                const label = { partition: partitionOf(c.origin) };
                this.#metrics.checkpointsSigned.inc(label);
                this.#metrics.lastCheckpointSize.set(label, c.size);
              },
              exportFailed: (origin, target) =>
                this.#metrics.checkpointExportFailures.inc({ partition: partitionOf(origin), target }),
            },
          });
  }

  /** Prometheus registry with the writer's metrics. */
  get registry(): Registry {
    return this.#metrics.registry;
  }

  /** True while consuming. */
  get healthy(): boolean {
    return this.#state === 'running';
  }

  /** Consumer lag per partition of the topic (all partitions, for this group). */
  lag(): Promise<PartitionLag[]> {
    return this.#consumer.lag();
  }

  /** Ensures the topic and its rejected topic exist, then joins the group and starts writing. */
  start(): Promise<void> {
    if (this.#starting) throw new Error('LedgerWriter.start() called twice');
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { brokers, topic, logger } = this.#options;
    await ensureTopic({ brokers, topic, partitions: this.#options.partitions ?? 6, logger });
    await ensureTopic({ brokers, topic: this.#rejected.topic, partitions: 1, logger });
    await this.#rejected.connect();
    this.#checkpointer?.start();
    await this.#consumer.start();
    if (this.#state === 'new') this.#state = 'running';
  }

  /** Head, duplicate window and tiles of a log, from the store; all describe the same records. */
  async #loadLog(origin: string): Promise<LogState> {
    const { head, window } = await this.#loadHeadAndWindow(origin);
    if (this.#checkpointer === undefined) return { head, window, tiles: undefined };
    let tiles: TileBuilder;
    try {
      tiles = await loadLogTiles(this.#options.store, origin, head.size);
    } catch (err) {
      throw new WriterError('WRITER_TILES_FAILED', `could not load the Merkle tiles of log ${origin}`, { cause: err });
    }
    return { head, window, tiles };
  }

  async #loadHeadAndWindow(origin: string): Promise<{ head: LogHead; window: DedupeWindow }> {
    const { store } = this.#options;
    let head: LogHead;
    try {
      head = await store.head(origin);
    } catch (err) {
      throw new WriterError('WRITER_HEAD_FAILED', `could not read the head of log ${origin}`, { cause: err });
    }
    const window = new DedupeWindow(this.#dedupeWindow);
    if (head.size === 0) return { head, window };
    let keys: Awaited<ReturnType<LedgerStore['recentKeys']>>;
    try {
      keys = await store.recentKeys(origin, this.#dedupeWindow);
    } catch (err) {
      throw new WriterError('WRITER_WINDOW_FAILED', `could not read the recent keys of log ${origin}`, { cause: err });
    }
    // Keys must end where the head ends: otherwise the log moved between the two reads (another
    // member still writing it during a rebalance) and the window would not describe this head.
    const last = keys.at(-1);
    if (last === undefined || last.index !== head.size - 1) {
      throw new WriterError(
        'WRITER_WINDOW_FAILED',
        `the recent keys of log ${origin} do not end at its head (size ${head.size}); retrying`,
      );
    }
    for (const k of keys) window.push(keyDigest(k.tenant, k.sourceSystem, k.eventId));
    return { head, window };
  }

  async #handle(batch: ConsumedBatch): Promise<void> {
    const { partition } = batch;
    const label = { partition: String(partition) };
    const origin = originFor(this.topic, partition);
    const generation = this.#generation;
    let log = this.#logs.get(partition);
    if (!log) {
      try {
        log = await this.#loadLog(origin);
      } catch (err) {
        this.#metrics.batches.inc({ outcome: 'failed' });
        throw err;
      }
      if (generation === this.#generation) {
        this.#logs.set(partition, log);
        // Records a previous owner stored but did not sign get a checkpoint from this one (and a
        // log shorter than its checkpoint is reported before anything is appended to it).
        if (log.tiles !== undefined) await this.#checkpointer?.appended(origin, log.head.size, log.tiles.root());
      }
    }
    try {
      await this.#write(batch, origin, label, generation, log);
    } catch (err) {
      // The window already holds this batch's keys, and the insert may have landed anyway:
      // forget the log so the retry reloads head and window from the store.
      if (this.#logs.get(partition) === log) this.#logs.delete(partition);
      this.#metrics.batches.inc({ outcome: 'failed' });
      throw err;
    }
  }

  async #write(
    batch: ConsumedBatch,
    origin: string,
    label: { partition: string },
    generation: number,
    log: LogState,
  ): Promise<void> {
    const { partition } = batch;
    const { head, window, tiles } = log;
    const builder = createChainBuilder(head);
    const records: LedgerRecord[] = [];
    const rejects: RejectedMessage[] = [];
    let skipped = 0;
    let duplicates = 0;
    for (const m of batch.messages) {
      if (m.offset <= head.lastSourceOffset) {
        skipped += 1;
        continue;
      }
      const decoded = decodeEvent(m.value);
      if (!decoded.ok) {
        rejects.push({ origin, partition, offset: m.offset, key: m.key, value: m.value, problem: decoded.problem });
        continue;
      }
      const { event } = decoded;
      const digest = keyDigest(event.tenant, event.source.system, event.eventId);
      if (window.has(digest)) {
        duplicates += 1;
        continue;
      }
      let record: LedgerRecord;
      try {
        record = builder.append({ sourceOffset: m.offset, event });
      } catch (err) {
        // The ledger's own encoder refused an event the schema accepted: still deterministic, still poison.
        if (!isLedgerError(err, 'LEDGER_INVALID_EVENT') && !isLedgerError(err, 'LEDGER_INVALID_INPUT')) throw err;
        rejects.push({
          origin,
          partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          problem: { kind: 'invalid_event', detail: err.message, issues: 1 },
        });
        continue;
      }
      records.push(record);
      // The log state is dropped on any failure below, so the tiles may run ahead of the store here.
      tiles?.append([Buffer.from(record.leafHash, 'hex')]);
      // Pushed as it is appended: a repeat later in the same batch is caught too.
      window.push(digest);
    }

    // Rejects first: once the records are stored, offsets up to them are skipped on replay, so a
    // poison message below them must already be safe on the rejected topic.
    if (rejects.length > 0) {
      await this.#rejected.send(rejects);
      for (const r of rejects) {
        this.#metrics.rejected.inc({ ...label, kind: r.problem.kind });
        this.#options.logger.warn(
          { origin, offset: r.offset, problem: r.problem.kind },
          'poison message set aside on the rejected topic',
        );
      }
    }
    if (records.length > 0) {
      const stop = this.#metrics.appendSeconds.startTimer();
      try {
        const changed = tiles?.takeChanged().map((t): LogTile => ({ ...t, origin }));
        await this.#options.store.append(records, changed);
      } catch (err) {
        throw new WriterError(
          'WRITER_APPEND_FAILED',
          `store did not confirm ${records.length} record(s) for log ${origin}`,
          { cause: err },
        );
      } finally {
        stop();
      }
      const current = generation === this.#generation && this.#logs.get(partition) === log;
      if (current) this.#logs.set(partition, { head: builder.head(), window, tiles });
      this.#metrics.recordsWritten.inc(label, records.length);
      // Only while this member still owns the log: a checkpointer that forgot it must not reload it.
      if (current && tiles !== undefined) await this.#checkpointer?.appended(origin, builder.head().size, tiles.root());
    }
    if (skipped > 0) this.#metrics.replaySkipped.inc(label, skipped);
    if (duplicates > 0) {
      this.#metrics.duplicatesSkipped.inc(label, duplicates);
      // Counts only: event ids are the sender's and may carry PHI.
      this.#options.logger.debug({ origin, duplicates }, 'duplicate events skipped (key among the recent records)');
    }
    this.#metrics.batches.inc({ outcome: 'ok' });
    this.#options.logger.debug(
      { origin, written: records.length, rejected: rejects.length, skipped, duplicates, size: builder.head().size },
      'batch written',
    );
  }

  /**
   * Graceful stop: no new batches; the batch being written finishes and is committed; then the
   * consumer leaves the group and the rejected-topic producer closes. The store is the caller's.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#state = 'closing';
      // Closing half-started clients races kafkajs' own connect; let start() settle first.
      await this.#starting?.catch(() => undefined);
      try {
        await this.#consumer.close();
        await this.#rejected.close();
      } catch (err) {
        this.#options.logger.warn({ topic: this.topic, ...errorSummary(err) }, 'error while closing the ledger writer');
      } finally {
        // After the consumer stopped, so no batch is still appending: every record this member
        // stored leaves signed (the final checkpoints and their exports; never throws).
        await this.#checkpointer?.close();
        this.#state = 'closed';
      }
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The partition label of a log `phi-audit/<topic>/<partition>`. */
function partitionOf(origin: string): string {
  return origin.slice(origin.lastIndexOf('/') + 1);
}

/** Creates a (not yet started) ledger writer; call `start()`. */
export function createLedgerWriter(options: LedgerWriterOptions): LedgerWriter {
  return new LedgerWriter(options);
}
