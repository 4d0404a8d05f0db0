import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log object. Request bodies
 * and events are never passed to the logger in the first place; these paths are the backstop
 * for secrets (the ingest key travels in the Authorization header) and PHI-bearing fields.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'key',
  'secret',
  'body',
  'event',
  'events',
  'patient',
  'actor',
  '*.authorization',
  '*.key',
  '*.secret',
  '*.body',
  '*.event',
  '*.events',
  '*.patient',
  '*.actor',
] as const;

/** Options shared by every collector logger: redaction configured in one place. */
export function collectorLoggerOptions(level: LoggerOptions['level'] = 'info'): LoggerOptions {
  return {
    level: level ?? 'info',
    base: { service: 'collector' },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
}

/** The collector's pino logger; `destination` lets tests capture output. */
export function createCollectorLogger(
  options: { level?: LoggerOptions['level']; destination?: DestinationStream } = {},
): Logger {
  const opts = collectorLoggerOptions(options.level);
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
