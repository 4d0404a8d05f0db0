import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { errorSummary, kafkaLogCreator, type BusLogger, type DecodeProblem } from '@phi-audit/bus-kafka';
import { WriterError } from './errors.js';

/** A poison message set aside instead of entering the ledger. */
export interface RejectedMessage {
  origin: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer;
  problem: DecodeProblem;
}

export interface RejectedSinkOptions {
  brokers: readonly string[];
  /** The topic the message came from; rejects go to `${sourceTopic}.rejected`. */
  sourceTopic: string;
  clientId: string;
  logger: BusLogger;
}

/** Header names on the rejected topic. The value and key are the original bytes, untouched. */
export const REJECTED_HEADERS = {
  origin: 'phi-audit-origin',
  sourceTopic: 'phi-audit-source-topic',
  partition: 'phi-audit-source-partition',
  offset: 'phi-audit-source-offset',
  problemKind: 'phi-audit-problem-kind',
  problem: 'phi-audit-problem',
} as const;

/** The dead-letter topic of `topic`. */
export function rejectedTopicOf(topic: string): string {
  return `${topic}.rejected`;
}

/**
 * Durable producer for poison messages (idempotent, acks from all in-sync replicas). A reject is
 * produced before the batch's records are appended, so a poison message is never lost behind a
 * committed offset; a replay may produce it again (the headers identify it).
 */
export class RejectedSink {
  readonly topic: string;
  readonly #options: RejectedSinkOptions;
  readonly #producer: Producer;
  #connected = false;

  constructor(options: RejectedSinkOptions) {
    this.#options = options;
    this.topic = rejectedTopicOf(options.sourceTopic);
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(options.logger),
    });
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
    this.#connected = true;
  }

  /** Resolves once every reject is acknowledged; throws WRITER_REJECT_FAILED otherwise. */
  async send(rejects: readonly RejectedMessage[]): Promise<void> {
    if (rejects.length === 0) return;
    try {
      await this.#producer.send({
        topic: this.topic,
        acks: -1,
        messages: rejects.map((r) => ({
          key: r.key,
          value: r.value,
          headers: {
            [REJECTED_HEADERS.origin]: r.origin,
            [REJECTED_HEADERS.sourceTopic]: this.#options.sourceTopic,
            [REJECTED_HEADERS.partition]: String(r.partition),
            [REJECTED_HEADERS.offset]: String(r.offset),
            [REJECTED_HEADERS.problemKind]: r.problem.kind,
            [REJECTED_HEADERS.problem]: r.problem.detail,
          },
        })),
      });
    } catch (err) {
      this.#options.logger.error(
        { topic: this.topic, count: rejects.length, ...errorSummary(err) },
        'could not produce rejected messages',
      );
      throw new WriterError(
        'WRITER_REJECT_FAILED',
        `could not produce ${rejects.length} rejected message(s) to ${this.topic}`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    await this.#producer.disconnect();
  }
}
