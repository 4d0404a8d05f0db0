/**
 * The embedded ledger's writer thread: owns the SQLite write connection and commits the groups
 * the main thread sends (validation, idempotency lookup, chaining, one transaction each), so the
 * main thread keeps reading and validating requests while a commit fsyncs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteLedgerStore, isStoreError } from '@phi-audit/store-sqlite';
import { createGroupCommitter } from './group-commit.js';
import type { FromLedgerWorker, LedgerWorkerData, ToLedgerWorker } from './ledger-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('ledger-worker.js runs as a worker thread');
const data = workerData as LedgerWorkerData;
const store = createSqliteLedgerStore({
  file: data.file,
  ...(data.maxPageCount !== undefined ? { maxPageCount: data.maxPageCount } : {}),
});
const committer = createGroupCommitter({ store });
const send = (message: FromLedgerWorker): void => port.postMessage(message);

// Messages are handled one at a time: a group's transaction ends before the next group starts.
let work = Promise.resolve();
port.on('message', (message: ToLedgerWorker) => {
  work = work.then(async () => {
    switch (message.type) {
      case 'commit':
        try {
          send({ type: 'committed', id: message.id, ...(await committer.commit(message.requests)) });
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
        await store.close();
        send({ type: 'closed' });
        port.close();
        break;
      default:
        message satisfies never;
    }
  });
});
