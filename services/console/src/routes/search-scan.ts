import { MAX_ACCESS_QUERY_LIMIT, type AccessQueryStore, type AccessRow } from '@phi-audit/ledger';
import type { AccessCursor } from './search-schemas.js';

/**
 * Keyset paging over the ledger's access queries. The store has neither a cursor nor action or
 * workstation filters (AccessQueryStore: subject, event-time window, limit), so this walks its
 * order (event time descending, then origin and index ascending) in batches, narrowing the
 * window's upper bound to the last row seen and dropping the rows at that instant already
 * examined, and filters rows here. A page stops at `limit` matches or after `maxScan` rows
 * examined, whichever comes first, with a cursor to go on: a sparse filter over a long history
 * answers a short (even empty) page with a cursor instead of scanning without bound.
 */

export interface AccessScan {
  tenant: string;
  /** The store query: by patient when given, else by user. */
  patientId?: string | undefined;
  userId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  action?: string | undefined;
  workstation?: string | undefined;
  limit: number;
  cursor?: AccessCursor | undefined;
  /** Most rows examined for one page. */
  maxScan: number;
}

export interface AccessScanResult {
  items: AccessRow[];
  /** Where to go on, or undefined when the window is exhausted. */
  next: AccessCursor | undefined;
}

/** Thrown when more than MAX_ACCESS_QUERY_LIMIT events of the subject share one millisecond. */
export class DenseInstantError extends Error {
  override readonly name = 'DenseInstantError';
}

const FIRST_BATCH = 200;

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Whether `row` comes strictly after position `c` in the store's order. */
function isAfter(row: AccessRow, c: AccessCursor): boolean {
  if (row.occurredAt !== c.occurredAt) return row.occurredAt < c.occurredAt;
  // The stores order origins by their bytes (SQLite BINARY collation, ClickHouse String).
  const byOrigin = Buffer.compare(utf8(row.origin), utf8(c.origin));
  return byOrigin !== 0 ? byOrigin > 0 : row.index > c.index;
}

const positionOf = (row: AccessRow): AccessCursor => ({
  occurredAt: row.occurredAt,
  origin: row.origin,
  index: row.index,
});

/** One page of a search (see the module comment). */
export async function scanAccesses(store: AccessQueryStore, scan: AccessScan): Promise<AccessScanResult> {
  const matches = (r: AccessRow): boolean =>
    (scan.userId === undefined || r.userId === scan.userId) &&
    (scan.action === undefined || r.action === scan.action) &&
    (scan.workstation === undefined || r.workstation === scan.workstation);
  const items: AccessRow[] = [];
  let after = scan.cursor;
  let examined = 0;
  let batch = Math.min(MAX_ACCESS_QUERY_LIMIT, Math.max(FIRST_BATCH, scan.limit + 1));
  for (;;) {
    const upper = after === undefined ? scan.to : Math.min(after.occurredAt + 1, scan.to ?? Number.MAX_SAFE_INTEGER);
    const window = { tenant: scan.tenant, from: scan.from, to: upper, limit: batch };
    const rows =
      scan.patientId !== undefined
        ? await store.accessesByPatient({ ...window, patientId: scan.patientId })
        : await store.accessesByUser({ ...window, userId: scan.userId ?? '' });
    const full = rows.length === batch;
    const fresh = after === undefined ? rows : rows.filter((r) => isAfter(r, after as AccessCursor));
    if (fresh.length === 0) {
      if (!full) return { items, next: undefined };
      // Every row of a full batch was at the cursor's instant and already examined: widen.
      if (batch === MAX_ACCESS_QUERY_LIMIT) {
        throw new DenseInstantError(`more than ${MAX_ACCESS_QUERY_LIMIT} accesses share one millisecond`);
      }
      batch = Math.min(MAX_ACCESS_QUERY_LIMIT, batch * 4);
      continue;
    }
    for (let i = 0; i < fresh.length; i++) {
      const row = fresh[i] as AccessRow;
      examined++;
      if (matches(row)) items.push(row);
      if (items.length === scan.limit) {
        const moreHere = fresh.slice(i + 1).some(matches);
        return { items, next: moreHere || full ? positionOf(row) : undefined };
      }
      if (examined >= scan.maxScan) {
        const rest = i + 1 < fresh.length || full;
        return { items, next: rest ? positionOf(row) : undefined };
      }
    }
    if (!full) return { items, next: undefined };
    after = positionOf(fresh[fresh.length - 1] as AccessRow);
    // Later batches are for filtered scans mostly: larger ones mean fewer round trips.
    batch = Math.min(MAX_ACCESS_QUERY_LIMIT, batch * 2);
  }
}
