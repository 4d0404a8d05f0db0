import { setTimeout as sleep } from 'node:timers/promises';
import { isPidAlive } from './detached-process.js';
import { ServicesError } from './errors.js';

/** Options of {@link waitUntilReady}. */
export interface WaitUntilReadyOptions<T> {
  /** Human name used in messages. */
  readonly name: string;
  readonly pid: number;
  /** Resolves a value once the service answers; rejects (any error) while it does not yet. */
  readonly probe: () => Promise<T>;
  readonly timeoutMs: number;
  /** Log file the user should read when the service does not come up. */
  readonly logFile: string;
  readonly intervalMs?: number;
}

/**
 * Polls `probe` until it succeeds. Fails early when the process exits, and after `timeoutMs`
 * with a message that points at the log file; the last probe error is kept as `cause`.
 */
export async function waitUntilReady<T>(options: WaitUntilReadyOptions<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await options.probe();
    } catch (error) {
      lastError = error;
    }
    if (!isPidAlive(options.pid)) {
      throw new ServicesError(
        'SERVICES_START_TIMEOUT',
        `${options.name} exited during start-up; see ${options.logFile}`,
        { cause: lastError },
      );
    }
    if (Date.now() >= deadline) {
      throw new ServicesError(
        'SERVICES_START_TIMEOUT',
        `${options.name} did not answer within ${Math.round(options.timeoutMs / 1000)} s; see ${options.logFile}`,
        { cause: lastError },
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
}
