import {
  accessRowFromColumns,
  checkAccessQuery,
  type AccessQuerySchema,
  type AccessRow,
  type AccessRowColumns,
} from '@phi-audit/ledger';
import type { z } from 'zod';
import { StoreError } from './errors.js';
import type { ACCESS_QUERY_COLUMNS } from './statements.js';

/**
 * The console's access queries as ClickHouse runs them: validation and the AccessRow mapping
 * are @phi-audit/ledger's; ClickHouse's own part is reading the result as text (JSONEachRow
 * quotes UInt64) and its extra `occurred_at` column.
 */

/** Validates a console query, naming the bad fields (not their values). Throws STORE_INVALID_VALUE. */
export function parseAccessQuery<S extends AccessQuerySchema>(schema: S, input: unknown): z.infer<S> {
  const checked = checkAccessQuery(schema, input);
  if (!checked.ok) throw new StoreError('STORE_INVALID_VALUE', checked.message, { cause: checked.error });
  return checked.query;
}

/** A row of an access query as the server returns it (every column as text). */
export type AccessRowText = Record<(typeof ACCESS_QUERY_COLUMNS)[number], string>;

/** Maps a stored row to an AccessRow; '' optional columns become absent. */
export function accessRowFromText(r: AccessRowText): AccessRow {
  const columns: AccessRowColumns = {
    ...r,
    idx: Number(r.idx),
    source_offset: Number(r.source_offset),
    occurred_ms: Number(r.occurred_ms),
    received_ms: Number(r.received_ms),
  };
  return accessRowFromColumns(columns);
}
