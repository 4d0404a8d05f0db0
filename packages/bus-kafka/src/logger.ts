import { logLevel, type logCreator } from 'kafkajs';

/** The subset of a pino logger the bus uses. Log objects never carry message contents. */
export interface BusLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Routes kafkajs' own logging into `logger`. kafkajs logs and retries transient errors
 * (coordinator moving, leader election) itself, so its ERROR entries become warnings here;
 * failures that reach our code are logged by the caller as errors.
 */
export function kafkaLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ level, log }) => {
      const {
        message,
        timestamp: _t,
        logger: _l,
        ...rest
      } = log as { message: string; timestamp?: unknown; logger?: unknown };
      const obj = { component: 'kafkajs', ...rest };
      switch (level) {
        case logLevel.ERROR:
        case logLevel.WARN:
          logger.warn(obj, message);
          break;
        case logLevel.INFO:
          logger.debug(obj, message);
          break;
        case logLevel.DEBUG:
        case logLevel.NOTHING:
          break;
        default:
          level satisfies never;
      }
    };
}
