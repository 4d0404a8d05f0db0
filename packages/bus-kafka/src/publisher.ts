import { Kafka, Partitioners, logLevel as KafkaLogLevel, type Admin, type Message, type Producer } from 'kafkajs';
import type { AccessEvent } from '@phi-audit/schema';
import { BusError } from './errors.js';
import { kafkaLogCreator, type BusLogger } from './logger.js';
import { partitionKey } from './topic.js';

export interface EventPublisherOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  topic: string;
  clientId: string;
  logger: BusLogger;
  /** How long the first publish() of a group waits for others to join it (ms). Default 2. */
  lingerMs?: number;
  /** Group size cap in bytes of keys + values; a full group is sent without waiting. Default 900 KB, under the broker's 1 MiB message.max.bytes. */
  maxSendBytes?: number;
  /** Whole-send deadline: a send not acknowledged by then rejects its callers with BUS_UNAVAILABLE (ms). Default 30,000. */
  sendTimeoutMs?: number;
  /** TCP connect timeout per broker (ms). Default 3,000. */
  connectionTimeoutMs?: number;
  /** Produce request timeout (ms). Default 30,000. */
  requestTimeoutMs?: number;
  /** How long an isReady() answer is reused (ms). Default 1,000. */
  readyCacheMs?: number;
}

/** Counters describing what the publisher did; group commit shows as `sends` < `publishes`. */
export interface PublisherStats {
  /** publish() calls that resolved. */
  publishes: number;
  /** Produce sends acknowledged by the broker (one per group, more when a group exceeds maxSendBytes). */
  sends: number;
  /** Events acknowledged. */
  events: number;
  /** Sends that failed (each rejects every caller in its group). */
  failedSends: number;
}

/** Durable, group-committed writes of canonical events to the access-event topic. */
export interface EventPublisher {
  /**
   * Resolves once every event is acknowledged by all in-sync replicas; rejects with a
   * BusError (BUS_UNAVAILABLE or BUS_PRODUCE_FAILED) otherwise. Concurrent calls share sends.
   */
  publish(events: readonly AccessEvent[]): Promise<void>;
  /** True when a broker answers a metadata request for the topic; cached for `readyCacheMs`. */
  isReady(): Promise<boolean>;
  stats(): PublisherStats;
  /** Waits for queued publishes to settle, then disconnects. Later publish() calls reject. */
  close(): Promise<void>;
}

interface Pending {
  messages: Message[];
  /** Estimated record size of each message, computed once in publish(). */
  sizes: number[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Record-batch framing overhead per message, generous so estimates stay on the safe side. */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * Creates a publisher with a kafkajs idempotent producer (acks = -1).
 *
 * Group commit: publish() calls arriving within `lingerMs`, or while a send is in flight,
 * are coalesced into one send; each caller settles with that send. Only one send is in
 * flight at a time (kafkajs tracks idempotent sequence numbers per send and mis-sequences
 * concurrent sends to one partition), which is also what makes later callers coalesce.
 */
export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const lingerMs = options.lingerMs ?? 2;
  const maxSendBytes = options.maxSendBytes ?? 900_000;
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const readyCacheMs = options.readyCacheMs ?? 1_000;
  const log = options.logger;

  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Bounded so an unreachable cluster fails a request instead of holding it forever.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(withoutRetryLimitWarning(log)),
  });

  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let admin: Admin | undefined;
  const queue: Pending[] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending = false;
  let closed = false;
  let idle: (() => void) | undefined;
  let ready: { at: number; value: boolean } | undefined;
  let readyCheck: Promise<boolean> | undefined;
  const counters: PublisherStats = { publishes: 0, sends: 0, events: 0, failedSends: 0 };

  function newProducer(): Producer {
    return kafka.producer({
      idempotent: true,
      // kafkajs requires at most one in-flight request per connection for idempotence.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-client-compatible murmur2: a key maps to the same partition from any producer.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
  }

  async function connectedProducer(): Promise<Producer> {
    if (producer) return producer;
    connecting ??= (async () => {
      const p = newProducer();
      try {
        await p.connect();
      } catch (error) {
        await p.disconnect().catch(() => undefined);
        throw error;
      }
      producer = p;
      return p;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /**
   * After a failed or timed-out send the broker may or may not have written it. Reusing the
   * producer would resend different records under the same sequence numbers, which the
   * broker could take for duplicates; a fresh producer id avoids that.
   */
  function discardProducer(): void {
    const p = producer;
    producer = undefined;
    if (p) void p.disconnect().catch(() => undefined);
  }

  function schedule(): void {
    if (sending || queue.length === 0) return;
    if (queuedBytes >= maxSendBytes) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      void flush();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, lingerMs);
  }

  async function flush(): Promise<void> {
    if (sending || queue.length === 0) return;
    sending = true;
    const group: Pending[] = [];
    let bytes = 0;
    while (queue.length > 0 && (group.length === 0 || bytes + queue[0]!.bytes <= maxSendBytes)) {
      const next = queue.shift()!;
      group.push(next);
      bytes += next.bytes;
    }
    queuedBytes -= bytes;
    try {
      await sendGroup(
        group.flatMap((p) => p.messages),
        group.flatMap((p) => p.sizes),
      );
      counters.publishes += group.length;
      for (const p of group) p.resolve();
    } catch (error) {
      for (const p of group) p.reject(error);
    } finally {
      sending = false;
      if (queue.length > 0) void flush();
      else if (idle) idle();
    }
  }

  async function sendGroup(messages: Message[], sizes: number[]): Promise<void> {
    let p: Producer;
    try {
      p = await connectedProducer();
    } catch (error) {
      counters.failedSends += 1;
      throw new BusError('BUS_UNAVAILABLE', `Kafka is unreachable (${options.brokers.join(', ')})`, { cause: error });
    }
    for (const chunk of chunkByBytes(messages, sizes, maxSendBytes)) {
      let deadline: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => {
          reject(new BusError('BUS_UNAVAILABLE', `Kafka did not acknowledge the send within ${sendTimeoutMs} ms`));
        }, sendTimeoutMs);
      });
      try {
        await Promise.race([p.send({ topic: options.topic, acks: -1, messages: chunk }), timeout]);
        counters.sends += 1;
        counters.events += chunk.length;
      } catch (error) {
        counters.failedSends += 1;
        discardProducer();
        if (error instanceof BusError) throw error;
        throw classifySendError(error, options.topic);
      } finally {
        clearTimeout(deadline);
      }
    }
  }

  return {
    publish(events) {
      if (closed) return Promise.reject(new BusError('BUS_UNAVAILABLE', 'the event publisher is closed'));
      if (events.length === 0) return Promise.resolve();
      const messages: Message[] = [];
      const sizes: number[] = [];
      let bytes = 0;
      for (const event of events) {
        const key = partitionKey(event);
        // Encoded to UTF-8 once here: the size estimate and kafkajs' record encoder share the bytes.
        const value = Buffer.from(JSON.stringify(event), 'utf8');
        const size = Buffer.byteLength(key) + value.length + RECORD_OVERHEAD_BYTES;
        messages.push({ key, value });
        sizes.push(size);
        bytes += size;
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ messages, sizes, bytes, resolve, reject });
        queuedBytes += bytes;
        schedule();
      });
    },

    isReady() {
      if (closed) return Promise.resolve(false);
      if (ready && Date.now() - ready.at < readyCacheMs) return Promise.resolve(ready.value);
      readyCheck ??= (async () => {
        let value = false;
        try {
          admin ??= kafka.admin({ retry: { retries: 0 } });
          await admin.connect();
          const meta = await admin.fetchTopicMetadata({ topics: [options.topic] });
          value = meta.topics.some((t) => t.name === options.topic && t.partitions.length > 0);
        } catch (error) {
          log.debug({ err: describeError(error) }, 'kafka readiness check failed');
          const a = admin;
          admin = undefined;
          if (a) await a.disconnect().catch(() => undefined);
        }
        ready = { at: Date.now(), value };
        return value;
      })().finally(() => {
        readyCheck = undefined;
      });
      return readyCheck;
    },

    stats() {
      return { ...counters };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
        void flush();
      }
      if (sending || queue.length > 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
        });
      }
      await readyCheck?.catch(() => undefined);
      await Promise.allSettled([producer?.disconnect(), connecting?.then((p) => p.disconnect()), admin?.disconnect()]);
      producer = undefined;
      admin = undefined;
    },
  };
}

/** Splits messages into sends that stay under the broker's per-batch size limit. */
function chunkByBytes(messages: Message[], sizes: readonly number[], maxBytes: number): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const [i, m] of messages.entries()) {
    const size = sizes[i]!;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const UNAVAILABLE_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
]);

function classifySendError(error: unknown, topic: string): BusError {
  const name = error instanceof Error ? error.name : '';
  const retriable =
    typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
  if (UNAVAILABLE_ERRORS.has(name) || retriable) {
    return new BusError('BUS_UNAVAILABLE', `Kafka is unavailable: ${describeError(error)}`, { cause: error });
  }
  return new BusError('BUS_PRODUCE_FAILED', `producing to ${topic} failed: ${describeError(error)}`, { cause: error });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { originalError?: unknown }).originalError ?? error.cause;
  return cause instanceof Error && cause.message !== error.message
    ? `${error.message} (${cause.message})`
    : error.message;
}

/**
 * Retries are bounded on purpose (a request must fail rather than hang while the cluster is
 * down); kafkajs warns that this may cause duplicates, which is harmless here because delivery
 * is at-least-once and the ledger is idempotent. Drop that one warning, keep everything else.
 */
function withoutRetryLimitWarning(log: BusLogger): BusLogger {
  return {
    debug: (obj, msg) => log.debug(obj, msg),
    info: (obj, msg) => log.info(obj, msg),
    warn: (obj, msg) => {
      if (!msg.startsWith('Limiting retries for the idempotent producer')) log.warn(obj, msg);
    },
    error: (obj, msg) => log.error(obj, msg),
  };
}
