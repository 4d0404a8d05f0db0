import { pino, type Logger } from 'pino';
import type { LogLevel } from './env-schemas.js';

/**
 * Log fields that could carry PHI or secrets in any Kafka/ClickHouse service (events, their
 * patient and actor, raw values, URLs with credentials), censored wherever they appear.
 */
export const SERVICE_REDACT_PATHS: readonly string[] = [
  'event',
  '*.event',
  'patient',
  '*.patient',
  'actor',
  '*.actor',
  'value',
  '*.value',
  'url',
  '*.url',
  'clickhouseUrl',
  '*.password',
];

export interface ServiceLoggerOptions {
  service: string;
  level: LogLevel;
  /** The service's own PHI or secret fields, censored besides SERVICE_REDACT_PATHS. */
  redact?: readonly string[];
}

/** The pino logger of a service: its name on every line, PHI and secret fields redacted. */
export function createServiceLogger(options: ServiceLoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    redact: { paths: [...SERVICE_REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
  });
}
