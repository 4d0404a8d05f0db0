import { z } from 'zod';

// Messages name the variable and never echo its value: CLICKHOUSE_URL carries a password.

/** pino's levels, as LOG_LEVEL accepts them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL: one of LOG_LEVELS, default info. */
export const logLevelEnv = z
  .enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  .default('info');

/** KAFKA_TOPIC: a Kafka topic name (1-200 of A-Z, a-z, 0-9, ".", "_", "-"), `defaultTopic` when unset. */
export function kafkaTopicEnv(defaultTopic: string) {
  return z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'KAFKA_TOPIC must be 1-200 characters of A-Z, a-z, 0-9, ".", "_" or "-"')
    .default(defaultTopic);
}

/** KAFKA_BROKERS: a required comma-separated host:port list, parsed to an array. */
export const kafkaBrokersEnv = z
  .string({ error: 'KAFKA_BROKERS is required: comma-separated host:port list' })
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .refine((list) => list.length > 0, 'KAFKA_BROKERS must name at least one broker')
  .refine((list) => list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), 'KAFKA_BROKERS entries must look like host:port');

/** A whole number between min and max (inclusive), its messages naming the variable. */
export function boundedIntEnv(name: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);
}

/** CLICKHOUSE_URL: an http(s) URL, required unless the caller adds `.optional()`. */
export const clickhouseUrlEnv = z
  .string({ error: 'CLICKHOUSE_URL is required, e.g. http://writer:password@clickhouse:8123' })
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'CLICKHOUSE_URL must be an http(s) URL');

/** CLICKHOUSE_DATABASE: an identifier, default phi_audit. */
export const clickhouseDatabaseEnv = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'CLICKHOUSE_DATABASE must be an identifier (letters, digits, "_")')
  .default('phi_audit');

/** The variables that are set: empty ones count as unset, as in most shells' `VAR=` usage. */
export function presentEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/** One line per zod issue, `VARIABLE: message`, for a configuration error listing every problem. */
export function envProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
}
