import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { main } from './main.js';

/**
 * Default V8 old-generation cap of `phi-audit ledger-writer`, MiB. The writer's live data is a
 * few fetches (bounded by the consumer's maxBytes) plus the duplicate windows; without a cap V8
 * lets garbage accumulate up to a quarter of the machine's memory before collecting it, which
 * showed as 400+ MB RSS while catching up a lag. With this cap the same catch-up peaks near
 * 240 MB at the same speed (bench/ingest.ts).
 */
export const DEFAULT_WRITER_MAX_HEAP_MB = 192;

/** True when the user already chose a heap limit for this process (command line or NODE_OPTIONS). */
function heapLimitChosenByUser(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((f) => f.startsWith('--max-old-space-size') || f.startsWith('--max_old_space_size'));
}

/**
 * Runs the writer (main) with its V8 heap capped at `WRITER_MAX_HEAP_MB` (default 192; 0 = no
 * cap) in a worker thread of this process: a heap limit can only be set when a V8 isolate is
 * created, and a worker's isolate takes one (resourceLimits), so the cap holds however the
 * process was started, with no second process (signals, kill -9 and RSS stay this process's).
 * SIGTERM/SIGINT are passed to the worker, whose main() shuts down gracefully. A
 * --max-old-space-size given by the user wins: then main() runs here, uncapped by us.
 * Resolves with the exit code the process should use; rejects as main() does when it fails.
 */
export async function runWithHeapLimit(env: Record<string, string | undefined> = process.env): Promise<number> {
  const raw = env.WRITER_MAX_HEAP_MB;
  const limitMb = raw === undefined || raw === '' ? DEFAULT_WRITER_MAX_HEAP_MB : Number(raw);
  if (!Number.isSafeInteger(limitMb) || limitMb < 0 || (limitMb > 0 && limitMb < 64)) {
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: 'ledger-writer', msg: 'WRITER_MAX_HEAP_MB must be 0 (no cap) or a whole number of MiB ≥ 64' })}\n`,
    );
    return 1;
  }
  if (limitMb === 0 || heapLimitChosenByUser()) {
    await main(env);
    return 0;
  }
  const worker = new Worker(new URL('./heap-limit-worker.js', import.meta.url), {
    env,
    resourceLimits: { maxOldGenerationSizeMb: limitMb },
  });
  const forward = (signal: NodeJS.Signals): void => {
    worker.postMessage({ signal });
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  let failure: string | undefined;
  worker.on('message', (m: { failed?: string }) => {
    if (typeof m.failed === 'string') failure = m.failed;
  });
  try {
    const code = await new Promise<number>((resolve) => {
      worker.once('error', (err) => {
        // ERR_WORKER_OUT_OF_MEMORY and the like: exit non-zero so a supervisor restarts the writer;
        // nothing is lost (offsets are committed only after the store confirmed a batch).
        process.stderr.write(
          `${JSON.stringify({ level: 'fatal', service: 'ledger-writer', msg: 'ledger-writer worker failed', code: (err as { code?: string }).code ?? err.name, heapLimitMb: limitMb, heapLimitOfProcessMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) })}\n`,
        );
        resolve(1);
      });
      worker.once('exit', (exitCode) => resolve(exitCode));
    });
    // main() rejected in the worker: surface it like an inline main() would (the CLI prints it).
    if (failure !== undefined) throw new Error(failure);
    return code;
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  }
}
