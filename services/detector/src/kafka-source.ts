import {
  BusError,
  decodeEvent,
  ensureTopic,
  errorSummary,
  kafkaLogCreator,
  type BusLogger,
} from '@phi-audit/bus-kafka';
import type { AccessEvent } from '@phi-audit/schema';
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import type { DetectorHost } from './detector-host.js';
import { DetectorError } from './errors.js';
import type { DetectorMetrics } from './metrics.js';

export const DEFAULT_DETECTOR_GROUP_ID = 'phi-audit-detector';
export const DEFAULT_REPLAY_HOURS = 26;
export const DEFAULT_FLUSH_INTERVAL_MS = 5_000;
/** How often the replay start offsets (by timestamp) and committed offsets are re-read. */
const POSITIONS_REFRESH_MS = 60_000;

export interface KafkaSourceOptions {
  brokers: readonly string[];
  topic: string;
  groupId?: string;
  clientId?: string;
  host: DetectorHost;
  logger: BusLogger;
  metrics?: DetectorMetrics;
  /** Partition count used only when the topic does not exist yet. Default 6. */
  partitions?: number;
  /** How far back (Kafka message time) every assigned partition is replayed on (re)join. Default 26 h. */
  replayMs?: number;
  /** Alerts are flushed, then offsets committed, this often. Default 5 s. */
  flushIntervalMs?: number;
  sessionTimeout?: number;
  /** Backoff of a failing step (store or reference data unavailable): first delay and cap, ms. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** The consumer stopped for good; the process should exit non-zero and be restarted. */
  onFatal?: (err: DetectorError) => void;
  /** Clock, epoch ms (tests). */
  now?: () => number;
}

/** Where each partition's replay starts: the offsets of `now − replay` and the group's committed offsets. */
interface Positions {
  byTime: Map<number, number>;
  committed: Map<number, number>;
}

/**
 * The cluster-mode event source: a consumer group on the events topic. Messages are decoded
 * with the ledger-writer's decoder (undecodable ones are counted and skipped: the writer sets
 * them aside) and run through the host. Every `flushIntervalMs` the host's alerts are flushed
 * and only then the offsets processed before that flush are committed, so a crash loses no
 * alert: it replays the uncommitted messages.
 *
 * On every (re)join each assigned partition is rewound to the earlier of its committed offset
 * and the offset of `now − replayMs`, so bulk-read windows and day-level rules (peer deviation)
 * see the open days' events again. Replays are harmless: alert ids are deterministic and the
 * store merges. The host's per-user state is built from event time, so partitions replayed one
 * after the other may mark some replayed events late; per-event rules still fire on them.
 */
export class KafkaSource {
  readonly #o: KafkaSourceOptions;
  readonly #kafka: Kafka;
  readonly #consumer: Consumer;
  #admin: Admin | undefined;
  readonly #replayMs: number;
  /** Next offset per partition whose messages the host has processed (not yet committed). */
  readonly #processed = new Map<number, number>();
  #assigned: number[] = [];
  #positions: Positions | undefined;
  #positionsAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #flushFailing = false;
  #inBatch: Promise<void> | undefined;
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  #closed: Promise<void> | undefined;
  #starting: Promise<void> | undefined;

  constructor(options: KafkaSourceOptions) {
    this.#o = options;
    this.#replayMs = options.replayMs ?? DEFAULT_REPLAY_HOURS * 3_600_000;
    this.#kafka = new Kafka({
      clientId: options.clientId ?? DEFAULT_DETECTOR_GROUP_ID,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(options.logger),
    });
    const sessionTimeout = options.sessionTimeout ?? 30_000;
    this.#consumer = this.#kafka.consumer({
      groupId: options.groupId ?? DEFAULT_DETECTOR_GROUP_ID,
      sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      maxWaitTimeInMs: 250,
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => this.#onJoin(payload.memberAssignment));
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      options.logger.error(
        { topic: options.topic, restart: payload.restart, ...errorSummary(payload.error) },
        'detector consumer crashed',
      );
      if (!payload.restart && this.#state === 'running') {
        options.onFatal?.(
          new DetectorError('DETECTOR_FATAL', `detector consumer of ${options.topic} stopped`, {
            cause: payload.error,
          }),
        );
      }
    });
  }

  get healthy(): boolean {
    return this.#state === 'running' && !this.#flushFailing;
  }

  /** Ensures the topic exists, reads the replay positions, joins the group and starts the flush timer. */
  start(): Promise<void> {
    if (this.#starting) throw new Error('KafkaSource.start() called twice');
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { brokers, topic, logger } = this.#o;
    await ensureTopic({ brokers, topic, partitions: this.#o.partitions ?? 6, logger });
    // Read before joining: the join handler seeks synchronously from these.
    await this.#refreshPositions();
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: [topic], fromBeginning: true });
      await this.#consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // One partition at a time: the engine is one state machine, and its event order is the fetch order.
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.#trackBatch(payload),
      });
    } catch (err) {
      throw new BusError('BUS_UNAVAILABLE', `could not start consuming ${topic} as the detector group`, { cause: err });
    }
    const every = this.#o.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#timer = setInterval(() => {
      this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    }, every);
    if (this.#state === 'new') this.#state = 'running';
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #adminClient(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.#kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    return this.#admin;
  }

  async #refreshPositions(): Promise<void> {
    const { topic } = this.#o;
    const groupId = this.#o.groupId ?? DEFAULT_DETECTOR_GROUP_ID;
    const admin = await this.#adminClient();
    const at = this.#now();
    const [byTime, groups] = await Promise.all([
      admin.fetchTopicOffsetsByTimestamp(topic, at - this.#replayMs),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committed = new Map<number, number>();
    for (const p of groups[0]?.partitions ?? []) committed.set(p.partition, Number(p.offset));
    // What this member committed itself may be newer than the last read.
    for (const [p, o] of this.#positions?.committed ?? []) if (o > (committed.get(p) ?? -1)) committed.set(p, o);
    this.#positions = { byTime: new Map(byTime.map((o) => [o.partition, Number(o.offset)])), committed };
    this.#positionsAt = at;
  }

  /** Rewinds each newly assigned partition (synchronously, before the first fetch of the generation). */
  #onJoin(assignment: Record<string, number[]>): void {
    const { topic, logger } = this.#o;
    // Offsets processed under the previous generation may not be committable now: replay them.
    this.#processed.clear();
    this.#assigned = [...(assignment[topic] ?? [])];
    const positions = this.#positions;
    for (const partition of this.#assigned) {
      const committed = positions?.committed.get(partition) ?? -1;
      const byTime = positions?.byTime.get(partition);
      // No commit yet: the group starts at the beginning, which is earlier than any replay start.
      if (committed < 0 || byTime === undefined || byTime >= committed) continue;
      this.#consumer.seek({ topic, partition, offset: String(byTime) });
      logger.info(
        { topic, partition, from: byTime, committed },
        'replaying the partition’s recent events to rebuild detection state',
      );
    }
    logger.info({ topic, partitions: this.#assigned }, 'detector joined the consumer group');
  }

  #trackBatch(payload: EachBatchPayload): Promise<void> {
    const run = this.#onBatch(payload);
    this.#inBatch = run.catch(() => undefined);
    return run;
  }

  async #onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const { metrics } = this.#o;
    const events: AccessEvent[] = [];
    for (const m of batch.messages) {
      const decoded = decodeEvent(m.value ?? Buffer.alloc(0));
      if (decoded.ok) events.push(decoded.event);
      else metrics?.decodeFailures.inc({ kind: decoded.problem.kind });
    }
    const last = batch.lastOffset();
    const initial = this.#o.retryInitialMs ?? 200;
    const max = this.#o.retryMaxMs ?? 30_000;
    for (let attempt = 1; ; attempt += 1) {
      // Leaving without resolving is always safe: the messages are fetched again.
      if (this.#state !== 'running' && this.#state !== 'new') return;
      if (!payload.isRunning() || payload.isStale()) return;
      // Back-pressure: while alerts cannot be stored, stop taking on more.
      if (!this.#flushFailing) {
        try {
          await this.#o.host.process(events);
          break;
        } catch (err) {
          this.#o.logger.error(
            { partition: batch.partition, attempt, ...errorSummary(err) },
            'processing a batch failed; retrying the same batch',
          );
        }
      }
      await this.#pause(Math.min(max, initial * 2 ** Math.min(attempt - 1, 20)), heartbeat);
    }
    this.#processed.set(batch.partition, Number(last) + 1);
    payload.resolveOffset(last);
    await heartbeat();
  }

  async #pause(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (this.#state !== 'closing' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, Math.min(1_000, until - Date.now())));
      await heartbeat().catch(() => undefined);
    }
  }

  /** Flush, then commit what the flush covered. */
  async #tick(): Promise<void> {
    const snapshot = new Map(this.#processed);
    try {
      await this.#o.host.flush();
      this.#flushFailing = false;
    } catch (err) {
      this.#flushFailing = true;
      this.#o.logger.error(errorSummary(err), 'alert flush failed; offsets not committed, retrying at the next flush');
      return;
    }
    await this.#commit(snapshot);
    if (this.#now() - this.#positionsAt >= POSITIONS_REFRESH_MS && this.#state === 'running') {
      await this.#refreshPositions().catch((err: unknown) =>
        this.#o.logger.warn(errorSummary(err), 'could not refresh the replay positions'),
      );
    }
  }

  async #commit(snapshot: Map<number, number>): Promise<void> {
    const { topic } = this.#o;
    const offsets = [...snapshot].filter(([p]) => this.#assigned.includes(p));
    if (offsets.length === 0) return;
    try {
      await this.#consumer.commitOffsets(offsets.map(([partition, o]) => ({ topic, partition, offset: String(o) })));
    } catch (err) {
      // Typically a rebalance: the new owner replays from the last commit, which is harmless.
      this.#o.logger.warn({ topic, ...errorSummary(err) }, 'offset commit failed; the messages will be replayed');
      return;
    }
    for (const [p, o] of offsets) {
      if (this.#processed.get(p) === o) this.#processed.delete(p);
      this.#positions?.committed.set(p, Math.max(o, this.#positions.committed.get(p) ?? -1));
    }
  }

  /** Kafka lag per partition for this group: high watermark minus committed offset. */
  async lag(): Promise<{ key: string; lag: number }[]> {
    const { topic } = this.#o;
    const admin = await this.#adminClient();
    const [ends, groups] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: this.#o.groupId ?? DEFAULT_DETECTOR_GROUP_ID, topics: [topic] }),
    ]);
    const committed = new Map((groups[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return ends.map((e) => {
      const c = committed.get(e.partition) ?? -1;
      return { key: `partition-${e.partition}`, lag: Math.max(0, Number(e.high) - (c < 0 ? Number(e.low) : c)) };
    });
  }

  /**
   * Graceful stop: no new fetches, the batch in progress finishes, the final flush is written
   * and only then its offsets are committed; then the group is left.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#starting?.catch(() => undefined);
      this.#state = 'closing';
      if (this.#timer !== undefined) clearInterval(this.#timer);
      try {
        this.#consumer.pause([{ topic: this.#o.topic }]);
        await this.#inBatch;
        await this.#ticking;
        const snapshot = new Map(this.#processed);
        try {
          await this.#o.host.flush();
          await this.#commit(snapshot);
        } catch (err) {
          this.#o.logger.error(
            errorSummary(err),
            'final alert flush failed; the uncommitted messages will be replayed',
          );
        }
        await this.#consumer.disconnect();
        await this.#admin?.disconnect();
      } catch (err) {
        this.#o.logger.warn(errorSummary(err), 'error while closing the detector consumer');
      } finally {
        this.#state = 'closed';
      }
    })();
    return this.#closed;
  }
}

/** Creates a (not yet started) Kafka source; call `start()`. */
export function createKafkaSource(options: KafkaSourceOptions): KafkaSource {
  return new KafkaSource(options);
}
