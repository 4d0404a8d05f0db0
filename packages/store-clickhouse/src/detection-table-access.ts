import type { Logger } from 'pino';
import type { SettingValue } from './query-settings.js';

/**
 * What the detection store's parts (alert review, cases) get from it: its database and its query
 * and insert wrappers, which own the client, the closed check and the error mapping.
 */
export interface DetectionTableAccess {
  database: string;
  logger: Logger;
  /** One SELECT … FORMAT JSONEachRow (STORE_QUERY_FAILED on failure). */
  select: <T>(query: string, what: string, settings?: Readonly<Record<string, SettingValue>>) => Promise<T[]>;
  /** One INSERT … FORMAT JSONEachRow (STORE_INSERT_FAILED, nothing stored, on failure). */
  insert: (
    table: string,
    columns: readonly [string, ...string[]],
    rows: readonly object[],
    what: string,
  ) => Promise<void>;
}
