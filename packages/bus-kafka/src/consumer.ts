import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import { BusError, errorSummary } from './errors.js';
import { kafkaLogCreator, type BusLogger } from './logger.js';

export { kafkaLogCreator } from './logger.js';

/** One message as a batch handler sees it. Tombstones (null values) arrive as an empty buffer. */
export interface ConsumedMessage {
  offset: number;
  key: string | null;
  value: Buffer;
}

/** The messages of one fetch for one partition, in offset order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

/**
 * Processes one batch. Resolving means "durably handled": the consumer then commits the offset
 * after the batch. Rejecting means nothing was committed and the same batch is retried.
 */
export type BatchHandler = (batch: ConsumedBatch) => Promise<void>;

export interface BatchConsumerOptions {
  brokers: readonly string[];
  clientId: string;
  groupId: string;
  topic: string;
  handler: BatchHandler;
  logger: BusLogger;
  /** Partitions handled at the same time. Default 3. */
  partitionsConsumedConcurrently?: number;
  /** The broker holds a fetch until this many bytes are ready or `maxWaitTimeInMs` passes. Default 64 KiB. */
  minBytes?: number;
  /** Default 250 ms: the longest a quiet stream waits before a small batch is handed over. */
  maxWaitTimeInMs?: number;
  /** Upper bound of one partition's batch. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Upper bound of one fetch across partitions; with the above, bounds memory at any lag. Default 8 MiB. */
  maxBytes?: number;
  /** First retry delay after a handler failure. Default 200 ms; doubles up to `retryMaxMs`. */
  retryInitialMs?: number;
  /** Default 30 s. */
  retryMaxMs?: number;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /**
   * Called after every (re)join of the group, before batches of the new assignment are handed
   * over. Per-partition state cached by the handler must be dropped here: while another member
   * owned a partition, its log may have grown.
   */
  onRebalance?: () => void;
  /** Called when kafkajs gives up and will not restart the consumer: the process should exit. */
  onFatal?: (err: BusError) => void;
}

/** Consumer lag of one partition: messages in the topic the group has not committed yet. */
export interface PartitionLag {
  partition: number;
  /** Committed offset of the group (next offset to process); the low watermark when none. */
  committed: number;
  /** High watermark (offset of the next message to be written). */
  high: number;
  lag: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * A consumer-group member that hands whole batches to a handler and commits a partition's offset
 * only after the handler resolved. A failing handler is retried on the same batch with capped
 * exponential backoff, forever, until it succeeds or the consumer is closed: nothing is skipped.
 */
export class BatchConsumer {
  readonly #options: BatchConsumerOptions;
  readonly #kafka: Kafka;
  readonly #consumer: Consumer;
  #admin: Admin | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(options: BatchConsumerOptions) {
    this.#options = options;
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(options.logger),
    });
    this.#consumer = this.#kafka.consumer({
      groupId: options.groupId,
      minBytes: options.minBytes ?? 64 * 1024,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 250,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
      sessionTimeout: options.sessionTimeout ?? 30_000,
      heartbeatInterval: options.heartbeatInterval ?? 3_000,
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      options.onRebalance?.();
      const assigned = payload.memberAssignment[options.topic] ?? [];
      options.logger.info(
        { topic: options.topic, groupId: options.groupId, partitions: assigned },
        'joined consumer group',
      );
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      const err = new BusError(
        'BUS_CONSUME_FAILED',
        `consumer of ${options.topic} crashed (group ${options.groupId})`,
        {
          cause: payload.error,
        },
      );
      options.logger.error(
        { topic: options.topic, groupId: options.groupId, restart: payload.restart, ...errorSummary(payload.error) },
        'consumer crashed',
      );
      if (!payload.restart && !this.#closing) options.onFatal?.(err);
    });
  }

  /** Joins the group and starts consuming. A new group starts at the earliest offset. */
  async start(): Promise<void> {
    const { topic, groupId } = this.#options;
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: [topic], fromBeginning: true });
      await this.#consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently ?? 3,
        eachBatch: (payload) => this.#onBatch(payload),
      });
    } catch (err) {
      throw new BusError('BUS_UNAVAILABLE', `could not start consuming ${topic} as group ${groupId}`, { cause: err });
    }
  }

  async #onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const { topic, partition } = batch;
    const messages: ConsumedMessage[] = batch.messages.map((m) => ({
      offset: Number(m.offset),
      key: m.key ? m.key.toString('utf8') : null,
      value: m.value ?? EMPTY,
    }));
    const { logger } = this.#options;
    const initial = this.#options.retryInitialMs ?? 200;
    const max = this.#options.retryMaxMs ?? 30_000;
    for (let attempt = 1; ; attempt += 1) {
      // Leaving without a commit is always safe: the batch is fetched again by whoever owns the partition.
      if (this.#closing || !payload.isRunning() || payload.isStale()) return;
      try {
        await this.#options.handler({ topic, partition, messages });
        break;
      } catch (err) {
        const delay = Math.min(max, initial * 2 ** Math.min(attempt - 1, 20));
        logger.error(
          {
            topic,
            partition,
            firstOffset: batch.firstOffset(),
            lastOffset: batch.lastOffset(),
            attempt,
            retryInMs: delay,
            ...errorSummary(err),
          },
          'batch handler failed; offsets not committed, retrying the same batch',
        );
        await this.#pause(delay, heartbeat);
      }
    }
    const next = String(Number(batch.lastOffset()) + 1);
    try {
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
    } catch (err) {
      // Typically a rebalance fenced this member; the new owner replays the batch (the handler is idempotent).
      logger.warn(
        { topic, partition, offset: next, ...errorSummary(err) },
        'offset commit failed; batch will be redelivered',
      );
      throw err;
    }
    payload.resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  /** Waits `ms`, heartbeating so the group does not evict us, and returns early on close. */
  async #pause(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const step = Math.max(100, Math.floor((this.#options.heartbeatInterval ?? 3_000) / 2));
    const until = Date.now() + ms;
    while (!this.#closing && Date.now() < until) {
      await sleep(Math.min(step, until - Date.now()), this.#abort.signal);
      if (!this.#closing) await heartbeat();
    }
  }

  /**
   * Lag per partition of the topic for this consumer's group (all partitions, not only the ones
   * assigned here): high watermark minus committed offset.
   */
  async lag(): Promise<PartitionLag[]> {
    const { topic, groupId } = this.#options;
    try {
      if (!this.#admin) {
        const admin = this.#kafka.admin();
        await admin.connect();
        this.#admin = admin;
      }
      const [ends, groups] = await Promise.all([
        this.#admin.fetchTopicOffsets(topic),
        this.#admin.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const committedBy = new Map((groups[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      return ends
        .map((e) => {
          const high = Number(e.high);
          const low = Number(e.low);
          const c = committedBy.get(e.partition) ?? -1;
          const committed = c < 0 ? low : c;
          return { partition: e.partition, committed, high, lag: Math.max(0, high - committed) };
        })
        .sort((a, b) => a.partition - b.partition);
    } catch (err) {
      throw new BusError('BUS_UNAVAILABLE', `could not read offsets of ${topic} for group ${groupId}`, { cause: err });
    }
  }

  /**
   * Graceful stop: no new fetches, the in-flight handler finishes and its offset is committed,
   * a handler waiting to retry gives up (uncommitted), then the group is left and connections close.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    this.#abort.abort();
    this.#closed = (async () => {
      await this.#consumer.disconnect();
      await this.#admin?.disconnect();
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates a (not yet started) batch consumer; call `start()`. */
export function createBatchConsumer(options: BatchConsumerOptions): BatchConsumer {
  return new BatchConsumer(options);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
