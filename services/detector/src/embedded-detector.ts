import { Worker } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import { errorSummary, type BusLogger } from '@phi-audit/bus-kafka';
import { createDetectorMetricsRelay } from './embedded-detector-metrics.js';
import type { EmbeddedDetectorData, FromDetectorThread, ToDetectorThread } from './embedded-detector-protocol.js';
import { DetectorError } from './errors.js';

export interface EmbeddedDetectorOptions extends EmbeddedDetectorData {
  logger: BusLogger;
  /** The thread's script. Default: the built embedded-detector-worker.js next to this module. */
  workerUrl?: URL;
  /** Delay before a thread that died is replaced. Default 5 s. */
  restartDelayMs?: number;
  /**
   * Where the thread's detector metrics appear, under the cluster detector's names (embedded
   * mode: the collector app's registry, so /metrics shows them). Counters stay monotonic across
   * thread restarts. Default: not exposed.
   */
  registry?: Registry;
}

/** The running embedded detector. */
export interface EmbeddedDetector {
  /** Stops tailing; the thread flushes its alerts, saves its cursor and closes its connections. */
  close(): Promise<void>;
}

/** From the TypeScript sources (vitest) the built script: Node 20 cannot run a .ts file in a worker. */
function defaultWorkerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/embedded-detector-worker.js', import.meta.url)
    : new URL('./embedded-detector-worker.js', import.meta.url);
}

/**
 * Starts the embedded detector in a worker thread that tails the SQLite ledger (see
 * LedgerTailSource) and writes alerts to the detection database. Resolves once it runs;
 * rejects with the thread's error (a bad policy file names the file and its problems). A
 * thread that dies later is logged and replaced after `restartDelayMs`; its replacement
 * resumes from the saved cursor.
 */
export function startEmbeddedDetector(options: EmbeddedDetectorOptions): Promise<EmbeddedDetector> {
  const { logger, workerUrl = defaultWorkerUrl(), restartDelayMs = 5_000 } = options;
  const data: EmbeddedDetectorData = {
    ledgerFile: options.ledgerFile,
    detectionFile: options.detectionFile,
    policyDir: options.policyDir,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.replayMs !== undefined ? { replayMs: options.replayMs } : {}),
    ...(options.referencePollMs !== undefined ? { referencePollMs: options.referencePollMs } : {}),
  };
  let worker: Worker | undefined;
  let closing: Promise<void> | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  const relay =
    options.registry === undefined
      ? undefined
      : createDetectorMetricsRelay({
          registry: options.registry,
          requestSnapshot: () => {
            const w = worker;
            if (w === undefined || closing !== undefined) return false;
            w.postMessage({ type: 'collect' } satisfies ToDetectorThread);
            return true;
          },
        });

  function spawn(onStarted: () => void, onFailed: (error: Error) => void): Worker {
    const w = new Worker(workerUrl, { workerData: data });
    let settled = false;
    let exited = false;
    w.on('message', (message: FromDetectorThread) => {
      switch (message.type) {
        case 'metrics':
          // A late snapshot of a thread already accounted for would count its counters twice.
          if (!exited) relay?.update(message.metrics);
          break;
        case 'log':
          logger[message.level]({ thread: 'detector', ...message.obj }, message.msg);
          break;
        case 'started':
          settled = true;
          onStarted();
          break;
        case 'failed': {
          settled = true;
          const error = new DetectorError(
            message.code === 'DETECTOR_POLICY_INVALID' ? 'DETECTOR_POLICY_INVALID' : 'DETECTOR_FATAL',
            `the detector could not start: ${message.message}`,
          );
          onFailed(error);
          break;
        }
        case 'closed':
          break;
        default:
          message satisfies never;
      }
    });
    w.on('error', (error) => logger.error(errorSummary(error), 'the detector thread failed'));
    w.on('exit', (code) => {
      exited = true;
      relay?.threadEnded();
      if (worker === w) worker = undefined;
      if (!settled) {
        settled = true;
        onFailed(new DetectorError('DETECTOR_FATAL', `the detector thread stopped at start (exit code ${code})`));
        return;
      }
      if (closing !== undefined) return;
      logger.error({ exitCode: code, restartInMs: restartDelayMs }, 'the detector thread stopped; restarting it');
      restartTimer = setTimeout(() => {
        if (closing !== undefined) return;
        worker = spawn(
          () => logger.info({}, 'detector thread restarted'),
          (error) => logger.error(errorSummary(error), 'the detector thread could not restart'),
        );
      }, restartDelayMs);
      restartTimer.unref();
    });
    return w;
  }

  return new Promise((resolve, reject) => {
    worker = spawn(
      () =>
        resolve({
          close() {
            closing ??= (async () => {
              if (restartTimer !== undefined) clearTimeout(restartTimer);
              const w = worker;
              if (w === undefined) return;
              const exited = new Promise<void>((done) => w.once('exit', () => done()));
              w.postMessage({ type: 'close' } satisfies ToDetectorThread);
              await exited;
            })();
            return closing;
          },
        }),
      (error) => {
        closing = Promise.resolve();
        void worker?.terminate();
        reject(error);
      },
    );
  });
}
