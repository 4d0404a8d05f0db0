/**
 * The embedded detector's thread: rule evaluation runs here, off the main thread, so detection
 * never stalls HTTP ingest. It opens its own connections: the ledger read-only (the writer
 * thread owns the write connection) and the detection database.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BusLogger } from '@phi-audit/bus-kafka';
import { createSqliteDetectionStore, createSqliteLedgerStore } from '@phi-audit/store-sqlite';
import { createDetectorHost } from './detector-host.js';
import type {
  DetectorLogLevel,
  EmbeddedDetectorData,
  FromDetectorThread,
  ToDetectorThread,
} from './embedded-detector-protocol.js';
import { createLedgerTailSource } from './ledger-tail-source.js';
import { loadPolicyDir } from './policy-dir.js';

const port = parentPort;
if (port === null) throw new Error('embedded-detector-worker.js runs as a worker thread');
const data = workerData as EmbeddedDetectorData;
const send = (message: FromDetectorThread): void => port.postMessage(message);

function forward(level: DetectorLogLevel, obj: object, msg: string): void {
  try {
    send({ type: 'log', level, obj, msg });
  } catch {
    send({ type: 'log', level, obj: {}, msg });
  }
}
const logger: BusLogger = {
  debug: (obj, msg) => forward('debug', obj, msg),
  info: (obj, msg) => forward('info', obj, msg),
  warn: (obj, msg) => forward('warn', obj, msg),
  error: (obj, msg) => forward('error', obj, msg),
};

let closeAll: () => Promise<void> = () => Promise.resolve();

async function start(): Promise<void> {
  const policies = loadPolicyDir({ dir: data.policyDir, logger });
  const ledger = createSqliteLedgerStore({ file: data.ledgerFile, readonly: true });
  const store = createSqliteDetectionStore({ file: data.detectionFile });
  const host = createDetectorHost({
    store,
    policies,
    logger,
    ...(data.referencePollMs !== undefined ? { referencePollMs: data.referencePollMs } : {}),
  });
  const source = createLedgerTailSource({
    ledger,
    cursors: store,
    host,
    logger,
    ...(data.pollMs !== undefined ? { pollMs: data.pollMs } : {}),
    ...(data.replayMs !== undefined ? { replayMs: data.replayMs } : {}),
  });
  closeAll = async () => {
    await source.close();
    await host.close();
    await store.close();
    await ledger.close();
  };
  host.start();
  await source.start();
}

const started = start().then(
  () => send({ type: 'started' }),
  async (error: unknown) => {
    await closeAll().catch(() => undefined);
    const code = (error as { code?: unknown }).code;
    send({
      type: 'failed',
      code: typeof code === 'string' ? code : undefined,
      message: error instanceof Error ? error.message : 'the detector could not start',
    });
  },
);

port.on('message', (message: ToDetectorThread) => {
  switch (message.type) {
    case 'close':
      void started
        .then(() => closeAll())
        .catch((error: unknown) => logger.error({ errorName: (error as Error).name }, 'closing the detector failed'))
        .finally(() => {
          send({ type: 'closed' });
          port.close();
        });
      break;
    default:
      message.type satisfies never;
  }
});
