import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { parseConnectionOptions, type ConnectionOptions } from './connection-options.js';
import { clickHouseErrorCode, StoreError, type StoreErrorCode } from './errors.js';

/** A store's validated connection: where to connect and the per-request timeout. */
export interface StoreConnection extends ConnectionOptions {
  readonly requestTimeoutMs: number;
}

/**
 * Validates the connection options every ClickHouse store takes (`requestTimeoutMs` default
 * 30 000). Throws STORE_INVALID_OPTIONS; messages never include the password.
 */
export function parseStoreConnection(options: {
  url: string;
  database?: string;
  requestTimeoutMs?: number;
}): StoreConnection {
  const timeout = options.requestTimeoutMs ?? 30_000;
  if (!Number.isSafeInteger(timeout) || timeout <= 0) {
    throw new StoreError('STORE_INVALID_OPTIONS', 'requestTimeoutMs must be a positive whole number of milliseconds');
  }
  return { ...parseConnectionOptions(options), requestTimeoutMs: timeout };
}

/** An HTTP client for `database` (default: the connection's). */
export function createStoreClient(c: StoreConnection, database: string = c.database): ClickHouseClient {
  return createClient({
    url: c.url,
    username: c.username,
    password: c.password,
    database,
    request_timeout: c.requestTimeoutMs,
    // The driver's own logging would print server messages, which can quote rows (PHI).
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** Logs a failed ClickHouse call and returns the StoreError to throw, naming `what` and the server's error code. */
export function storeFailure(logger: Logger, code: StoreErrorCode, what: string, err: unknown): StoreError {
  const chCode = clickHouseErrorCode(err);
  // The code only: a server message can quote the data it failed on.
  logger.error({ code, clickhouseCode: chCode }, `${what} failed`);
  return new StoreError(code, `${what} failed${chCode === undefined ? '' : ` (ClickHouse error ${chCode})`}`, {
    cause: err,
  });
}
