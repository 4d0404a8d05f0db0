import type { Logger } from 'pino';

/** Why a service's main loop ends: SIGTERM/SIGINT, or a fatal error from its consumer. */
export type StopReason<E> = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'fatal'; error: E };

/** The stop request of a running service; `remove()` detaches the signal handlers. */
export interface StopSignals<E> {
  /** Resolves with the first stop reason. */
  readonly stopped: Promise<StopReason<E>>;
  /** Stops the service because of an error it cannot recover from. */
  fatal(error: E): void;
  remove(): void;
}

export interface StopSignalsOptions {
  logger: Pick<Logger, 'warn' | 'flush'>;
  /** Logged when a second signal forces exit 1 (names what is abandoned). */
  forcedExitMessage: string;
}

/**
 * Listens for SIGTERM and SIGINT. The first asks for a graceful stop; a second one, sent at
 * least a second later, exits at once with code 1.
 */
export function listenForStop<E>(options: StopSignalsOptions): StopSignals<E> {
  const { logger, forcedExitMessage } = options;
  let resolveStop!: (reason: StopReason<E>) => void;
  const stopped = new Promise<StopReason<E>>((r) => (resolveStop = r));
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Supervisors such as `timeout` signal the process and its group at once: only a signal
    // sent a while after the first means "stop now".
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1_000) return;
      logger.warn({ signal }, forcedExitMessage);
      logger.flush();
      process.exit(1);
    }
    firstSignalAt = Date.now();
    resolveStop({ kind: 'signal', signal });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    stopped,
    fatal: (error) => resolveStop({ kind: 'fatal', error }),
    remove: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
