import { connect } from 'node:net';

/** What a broker reported about itself. */
export interface KafkaProbeResult {
  /** Brokers listed in the Metadata response ("host:port"). */
  readonly brokers: readonly string[];
  readonly clusterId: string | null;
}

const API_VERSIONS = 18;
const METADATA = 3;
// Kafka 4 removed Metadata v0-v3 (KIP-896); v4 is the oldest version every 2.x-4.x broker serves.
const METADATA_VERSION = 4;

function request(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('phi-audit-services');
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([header, clientId, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

class Reader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }
}

/** Sends the requests in order over one connection and resolves each response body (after the correlation id). */
function exchange(host: string, port: number, requests: Buffer[], timeoutMs: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const responses: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(
      () => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(responses);
    };
    socket.on('error', (error) => finish(error));
    socket.on('close', () => {
      if (responses.length < requests.length) finish(new Error(`${host}:${port} closed the connection`));
    });
    socket.on('connect', () => {
      const first = requests[0];
      if (first) socket.write(first);
    });
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) return;
        responses.push(pending.subarray(8, 4 + size));
        pending = pending.subarray(4 + size);
        const next = requests[responses.length];
        if (next) socket.write(next);
        else return finish();
      }
    });
  });
}

/**
 * Asks a broker for its API versions and its metadata over the raw Kafka protocol; resolves once
 * it answers both and lists at least one broker. Independent of any client library, so it also
 * tells whether the broker itself is up when a client fails.
 */
export async function probeKafka(options: {
  host: string;
  port: number;
  timeoutMs?: number;
}): Promise<KafkaProbeResult> {
  const metadataBody = Buffer.alloc(5);
  metadataBody.writeInt32BE(-1, 0); // null topic list: all topics
  metadataBody.writeInt8(0, 4); // allow_auto_topic_creation = false
  const [versions, metadata] = await exchange(
    options.host,
    options.port,
    [request(API_VERSIONS, 0, 1, Buffer.alloc(0)), request(METADATA, METADATA_VERSION, 2, metadataBody)],
    options.timeoutMs ?? 3_000,
  );
  if (!versions || !metadata) throw new Error('incomplete answer from the broker');
  const errorCode = new Reader(versions).int16();
  if (errorCode !== 0) throw new Error(`broker answered ApiVersions with error code ${errorCode}`);
  const reader = new Reader(metadata);
  reader.int32(); // throttle_time_ms
  const brokerCount = reader.int32();
  const brokers: string[] = [];
  for (let i = 0; i < brokerCount; i++) {
    reader.int32(); // node_id
    const host = reader.nullableString();
    const port = reader.int32();
    reader.nullableString(); // rack
    brokers.push(`${host ?? ''}:${port}`);
  }
  const clusterId = reader.nullableString();
  if (brokers.length === 0) throw new Error('broker answered but lists no brokers yet');
  return { brokers, clusterId };
}
