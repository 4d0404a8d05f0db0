import { SERVICE_REDACT_PATHS, type LogLevel } from '@phi-audit/service-runtime';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Secrets of the console, censored wherever they appear: the session cookie (request and
 * response), the CSRF header, passwords and tokens. Bodies are never logged; this is the backstop.
 */
export const CONSOLE_REDACT_PATHS: readonly string[] = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'headers["x-csrf-token"]',
  'password',
  'token',
  '*.token',
  'csrfToken',
  '*.csrfToken',
  'body',
  '*.body',
];

/** The cluster-mode console's logger; `destination` lets tests capture the output. */
export function createConsoleLogger(options: { level: LogLevel; destination?: DestinationStream }): Logger {
  const opts = {
    level: options.level,
    base: { service: 'console' },
    redact: { paths: [...SERVICE_REDACT_PATHS, ...CONSOLE_REDACT_PATHS], censor: '[redacted]' },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
