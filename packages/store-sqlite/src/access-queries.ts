import { checkAccessQuery, type AccessQuerySchema } from '@phi-audit/ledger';
import type { z } from 'zod';
import { StoreError } from './errors.js';

/**
 * Validation of the console's access queries before they reach SQL. The schemas, the selected
 * columns (ACCESS_ROW_COLUMNS, which SQLite returns typed) and the AccessRow mapping are
 * @phi-audit/ledger's; this store only turns a rejection into its own error.
 */

/** Validates a console query, naming the bad fields (not their values). Throws STORE_INVALID_VALUE. */
export function parseAccessQuery<S extends AccessQuerySchema>(schema: S, input: unknown): z.infer<S> {
  const checked = checkAccessQuery(schema, input);
  if (!checked.ok) throw new StoreError('STORE_INVALID_VALUE', checked.message, { cause: checked.error });
  return checked.query;
}
