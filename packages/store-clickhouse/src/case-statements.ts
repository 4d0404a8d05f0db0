import { quoteIdentifier, quoteString } from './sql-literal.js';

/**
 * The SQL of the case store (issue 6), as pure builders shared with sqlCatalog(). Values go
 * through sql-literal.ts only; nothing here may use syntax newer than 18.16.1.
 *
 * Case events are appended, never updated: `body` is the canonical JSON of the whole event (the
 * record), the other columns copies of its fields for lookups and order. A plain MergeTree, not
 * Replacing: every row stays, so a forged or altered row sits beside the genuine ones where the
 * reads find it. Identical rows (a retried insert) collapse on read.
 */

/** Columns of `case_events`, in table order (also the JSONEachRow keys of its insert). */
export const CASE_EVENT_COLUMNS = ['tenant', 'case_id', 'event_id', 'at', 'by', 'kind', 'body'] as const;

/** Migration 5: the append-only case events, sorted so one case's history is one range of its tenant. */
export function createCaseEventsTable(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.case_events (
    tenant String,
    case_id String,
    event_id String,
    at UInt64,
    by String,
    kind String,
    body String
) ENGINE = MergeTree
ORDER BY (tenant, case_id, at, event_id)`;
}

export const caseEventsTable = (database: string): string => `${quoteIdentifier(database)}.case_events`;

/** The text @clickhouse/client sends for the case events insert (data follows on the next line). */
export function insertCaseEventsQuery(database: string): string {
  return `INSERT INTO ${caseEventsTable(database)} (${CASE_EVENT_COLUMNS.join(', ')}) FORMAT JSONEachRow`;
}

const list = (values: Iterable<string>): string => [...values].map(quoteString).join(', ');

/** The case ids and event ids one append names, per tenant (none empty). */
export type CaseKeysByTenant = ReadonlyMap<string, { caseIds: ReadonlySet<string>; eventIds: ReadonlySet<string> }>;

/**
 * The stored rows (tenant, case id, event id, kind) of the named cases and events, every tenant
 * of the append in one query (`keys` not empty).
 */
export function selectStoredCaseKeys(database: string, keys: CaseKeysByTenant): string {
  const terms = [...keys].map(
    ([tenant, k]) =>
      `(tenant = ${quoteString(tenant)} AND (case_id IN (${list(k.caseIds)}) OR event_id IN (${list(k.eventIds)})))`,
  );
  return `SELECT DISTINCT tenant, case_id, event_id, kind
FROM ${caseEventsTable(database)}
WHERE ${terms.join('\n    OR ')}`;
}

const SELECT_ROWS = `SELECT tenant, case_id, event_id, toString(at) AS at_ms, by, kind, body`;

/** One case's events in store order (at, then event id). */
export function selectCaseEvents(database: string, tenant: string, caseId: string): string {
  return `${SELECT_ROWS}
FROM ${caseEventsTable(database)}
WHERE tenant = ${quoteString(tenant)} AND case_id = ${quoteString(caseId)}
ORDER BY at, event_id`;
}

/** Every case event of the tenant in store order. */
export function selectTenantCaseEvents(database: string, tenant: string): string {
  return `${SELECT_ROWS}
FROM ${caseEventsTable(database)}
WHERE tenant = ${quoteString(tenant)}
ORDER BY at, event_id`;
}
