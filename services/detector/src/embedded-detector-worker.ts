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
import { snapshotOf } from './embedded-detector-metrics.js';
import { createLedgerTailSource, type LedgerTailSource } from './ledger-tail-source.js';
import { createDetectorMetrics } from './metrics.js';
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

/** How often the thread posts its metrics to the main thread, which serves them on /metrics. */
const METRICS_INTERVAL_MS = 1_000;

// The cluster detector's metric set. No process metrics: the thread shares the process, whose
// metrics are the main thread's to report.
const sourceRef: { current?: LedgerTailSource } = {};
const metrics = createDetectorMetrics({
  processMetrics: false,
  lag: () => Promise.resolve(sourceRef.current?.lag() ?? []),
});
let portClosed = false;
function postMetrics(): Promise<void> {
  return snapshotOf(metrics.registry).then(
    (snapshot) => {
      if (!portClosed) send({ type: 'metrics', metrics: snapshot });
    },
    () => undefined, // a failed collect skips one snapshot; the next comes within the interval
  );
}
const metricsTimer = setInterval(() => void postMetrics(), METRICS_INTERVAL_MS);
metricsTimer.unref();

let closeAll: () => Promise<void> = () => Promise.resolve();

async function start(): Promise<void> {
  const policies = loadPolicyDir({ dir: data.policyDir, logger });
  const ledger = createSqliteLedgerStore({ file: data.ledgerFile, readonly: true });
  const store = createSqliteDetectionStore({ file: data.detectionFile });
  const host = createDetectorHost({
    store,
    policies,
    logger,
    metrics,
    ...(data.referencePollMs !== undefined ? { referencePollMs: data.referencePollMs } : {}),
  });
  const source = createLedgerTailSource({
    ledger,
    cursors: store,
    host,
    logger,
    metrics,
    ...(data.pollMs !== undefined ? { pollMs: data.pollMs } : {}),
    ...(data.replayMs !== undefined ? { replayMs: data.replayMs } : {}),
  });
  sourceRef.current = source;
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
  () => {
    send({ type: 'started' });
    void postMetrics();
  },
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
        .then(() => {
          clearInterval(metricsTimer);
          return postMetrics(); // what the final flush counted
        })
        .finally(() => {
          send({ type: 'closed' });
          portClosed = true;
          port.close();
        });
      break;
    case 'collect':
      void postMetrics();
      break;
    default:
      message satisfies never;
  }
});
