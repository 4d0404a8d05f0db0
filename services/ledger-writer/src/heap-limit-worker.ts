/**
 * Worker-thread entry of runWithHeapLimit: runs main() and exits the worker with its outcome.
 * Workers receive no signals, so the parent posts them and they are re-emitted here, where
 * main()'s own SIGTERM/SIGINT handlers pick them up.
 */
import { parentPort } from 'node:worker_threads';
import { errorSummary } from '@phi-audit/bus-kafka';
import { main } from './main.js';

parentPort?.on('message', (message: { signal?: NodeJS.Signals }) => {
  if (message.signal === 'SIGTERM' || message.signal === 'SIGINT') process.emit(message.signal, message.signal);
});
// Let the worker end when main() is done even though the port is still listened to.
parentPort?.unref();

main(process.env).then(
  () => process.exit(0),
  (err: unknown) => {
    // The parent reports it as the CLI always has ("phi-audit: <message>"); no stack, no PHI.
    parentPort?.postMessage({ failed: err instanceof Error ? err.message : String(err), ...errorSummary(err) });
    process.exit(1);
  },
);
