/**
 * The embedded ledger's writer thread: owns the SQLite write connection and commits the groups
 * the main thread sends (validation, idempotency lookup, chaining, Merkle tiles, one transaction
 * each; the tiles of a partial 256-leaf tile are held back until a checkpoint or close needs
 * them), so the main thread keeps reading and validating requests while a commit fsyncs. It
 * also owns the checkpointer: every checkpoint is signed here, after the records it covers have
 * committed on this very connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createCheckpointer, loadLogTiles, loadSigningKey, type CheckpointLogger } from '@phi-audit/checkpoints';
import { createSqliteLedgerStore, isStoreError } from '@phi-audit/store-sqlite';
import { createGroupCommitter, type LogGrowth } from './group-commit.js';
import type { FromLedgerWorker, LedgerWorkerData, ToLedgerWorker, WorkerLogLevel } from './ledger-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('ledger-worker.js runs as a worker thread');
const data = workerData as LedgerWorkerData;
const send = (message: FromLedgerWorker): void => port.postMessage(message);

/** Log entries go to the main thread's logger (its level, redaction and destination). */
function forward(level: WorkerLogLevel, obj: object, msg: string): void {
  try {
    send({ type: 'log', level, obj, msg });
  } catch {
    // Not structured-cloneable (a function inside an error, say): the message still gets through.
    send({ type: 'log', level, obj: { thread: 'ledger-writer' }, msg });
  }
}
const logger: CheckpointLogger = {
  info: (obj, msg) => forward('info', obj, msg),
  warn: (obj, msg) => forward('warn', obj, msg),
  error: (obj, msg) => forward('error', obj, msg),
};

const store = createSqliteLedgerStore({
  file: data.file,
  ...(data.maxPageCount !== undefined ? { maxPageCount: data.maxPageCount } : {}),
});
const settings = data.checkpoints;
const checkpointer =
  settings === undefined
    ? undefined
    : createCheckpointer({
        signer: loadSigningKey({ key: settings.signerKey }),
        store,
        policy: { everyRecords: settings.everyRecords, intervalMs: settings.intervalMs },
        exportTo: { dir: settings.exportDir, url: settings.exportUrl, token: settings.exportToken },
        logger,
        // The committer holds tiles back between full tiles; a checkpoint needs them stored.
        beforeSign: (origin, size) => committer.flushTiles(origin, size),
      });
const committer = createGroupCommitter({
  store,
  loadTiles: settings === undefined ? undefined : (origin, size) => loadLogTiles(store, origin, size),
});

/**
 * Logs that grew, newest state per log, waiting for the checkpointer. The checkpointer runs
 * beside the commits, not inside them: a slow export (an HTTP endpoint timing out) must not
 * hold back acknowledgements, and a backlog collapses to the newest size of each log.
 */
const grownLogs = new Map<string, LogGrowth>();
let telling = false;
let told: Promise<void> = Promise.resolve();

function tellCheckpointer(grown: readonly LogGrowth[]): void {
  if (checkpointer === undefined || grown.length === 0) return;
  for (const g of grown) grownLogs.set(g.origin, g);
  if (telling) return;
  telling = true;
  told = (async () => {
    try {
      while (grownLogs.size > 0) {
        const batch = [...grownLogs.values()];
        grownLogs.clear();
        for (const g of batch) {
          try {
            await checkpointer.appended(g.origin, g.size, g.root);
          } catch (error) {
            // appended() logs and retries its own failures; this is a defect guard.
            logger.error({ err: { message: (error as Error).message } }, 'checkpointer failed');
          }
        }
      }
    } finally {
      // Same synchronous step as the loop's last check: nothing can slip in between.
      telling = false;
    }
  })();
}

// Messages are handled one at a time: a group's transaction ends before the next group starts.
let work: Promise<void> = (async () => {
  if (checkpointer === undefined) return;
  try {
    // Logs that grew after their last checkpoint before a crash get signed even if idle now.
    tellCheckpointer(await committer.loadLogs());
  } catch (error) {
    // The commits of the damaged log will fail and say so; the others carry on.
    logger.error(
      { code: (error as { code?: unknown }).code, err: { message: (error as Error).message } },
      'the Merkle tiles of the ledger could not be loaded at start',
    );
  }
  checkpointer.start();
})();

port.on('message', (message: ToLedgerWorker) => {
  work = work.then(async () => {
    switch (message.type) {
      case 'commit':
        try {
          const { grown, ...committed } = await committer.commit(message.requests);
          // Acknowledge first; sign after: the records are committed by now.
          send({ type: 'committed', id: message.id, ...committed });
          tellCheckpointer(grown);
        } catch (error) {
          send({
            type: 'failed',
            id: message.id,
            code: isStoreError(error) ? error.code : undefined,
            message: error instanceof Error ? error.message : 'unknown failure',
          });
        }
        break;
      case 'close':
        try {
          // Every committed log gets its tiles stored and a final checkpoint before the connection
          // closes (a failed tile write only costs the next start a repair).
          await told;
          await committer.flushTiles().catch((error: unknown) => {
            logger.error(
              { code: (error as { code?: unknown }).code, err: { message: (error as Error).message } },
              'the held-back Merkle tiles could not be stored (the next start repairs them)',
            );
          });
          await checkpointer?.close();
        } catch (error) {
          logger.error({ err: { message: (error as Error).message } }, 'the final checkpoints failed');
        } finally {
          await store.close();
        }
        send({ type: 'closed' });
        port.close();
        break;
      default:
        message satisfies never;
    }
  });
});
