import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { AccessEvent } from '@phi-audit/schema';
import { BusError } from './errors.js';
import { kafkaLogCreator, type BusLogger } from './logger.js';

export type { BusLogger } from './logger.js';

/** The topic collectors publish access events to unless configured otherwise. */
export const DEFAULT_TOPIC = 'phi-audit.access-events';

/**
 * The ledger log a partition feeds: one log per partition, never re-mapped.
 * `originFor('phi-audit.access-events', 3)` → `phi-audit/phi-audit.access-events/3`.
 */
export function originFor(topic: string, partition: number): string {
  return `phi-audit/${topic}/${partition}`;
}

/**
 * The message key of an event: `tenant:userId`. Keeps one user's events in one partition,
 * in order, which the detector's per-user state relies on.
 */
export function partitionKey(event: Pick<AccessEvent, 'tenant' | 'actor'>): string {
  return `${event.tenant}:${event.actor.userId}`;
}

export interface EnsureTopicOptions {
  brokers: readonly string[];
  topic: string;
  /** Partition count when the topic is created; an existing topic is left as it is. Default 6. */
  partitions?: number;
  /** Default 1 (single broker); production clusters pass 3. */
  replicationFactor?: number;
  logger?: BusLogger;
  clientId?: string;
}

export interface EnsureTopicResult {
  /** True when this call created the topic. */
  created: boolean;
  /** The topic's partition count as it now exists. */
  partitions: number;
}

/**
 * Creates `topic` if it does not exist. Never changes an existing topic: adding partitions
 * would re-map keys and split logs, so a different partition count is only logged as a warning.
 * Throws BUS_TOPIC_SETUP_FAILED (cause kept) when the broker cannot be reached or refuses.
 */
export async function ensureTopic(options: EnsureTopicOptions): Promise<EnsureTopicResult> {
  const { brokers, topic, partitions = 6, replicationFactor = 1, logger } = options;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new BusError(
      'BUS_TOPIC_SETUP_FAILED',
      `partition count for ${topic} must be a positive integer, got ${partitions}`,
    );
  }
  const kafka = new Kafka({
    clientId: options.clientId ?? 'phi-audit-topic-setup',
    brokers: [...brokers],
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    ...(logger ? { logCreator: kafkaLogCreator(logger) } : {}),
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    // Look first: createTopics on an existing topic works but makes kafkajs log an error.
    const known = await admin.listTopics();
    const created = known.includes(topic)
      ? false
      : await admin.createTopics({
          topics: [{ topic, numPartitions: partitions, replicationFactor }],
          waitForLeaders: true,
        });
    const existing = await partitionCount(admin, topic);
    if (!created && existing !== partitions) {
      logger?.warn(
        { topic, partitions: existing, configured: partitions },
        'topic exists with a different partition count; leaving it unchanged (partitions are never re-mapped)',
      );
    }
    if (created) logger?.info({ topic, partitions: existing, replicationFactor }, 'created topic');
    return { created, partitions: existing };
  } catch (err) {
    if (err instanceof BusError) throw err;
    throw new BusError('BUS_TOPIC_SETUP_FAILED', `could not create or describe topic ${topic}`, { cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const n = meta.topics[0]?.partitions.length ?? 0;
      if (n > 0) return n;
    } catch (err) {
      if (attempt >= 10) throw err;
    }
    if (attempt >= 10) return 0;
    // Metadata can lag right after creation.
    await new Promise((r) => setTimeout(r, 200));
  }
}
