/**
 * The SQL of the case store (issue 6) on `detection.sqlite`. Values only ever arrive as bound
 * parameters. Case events are appended, never updated: `body` is the canonical JSON of the whole
 * event (the record), the other columns copies of its fields for lookups and order.
 */

/**
 * Migration 3 of the detection database. The primary key makes an eventId unique per tenant
 * (the store checks first, to answer STORE_CASE_EXISTS; the key is the backstop); the index
 * serves one case's events in store order. A tenant's whole list is read by tenant and sorted.
 */
export const CREATE_CASE_EVENTS_TABLE = [
  `CREATE TABLE case_events (
    tenant TEXT NOT NULL,
    case_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant, event_id)
) STRICT`,
  'CREATE INDEX case_events_by_case ON case_events (tenant, case_id, at, event_id)',
] as const;

/** Columns of a case event row, in table order (also the order INSERT_CASE_EVENT binds). */
const COLUMNS = 'tenant, case_id, event_id, at, by, kind, body';

export const INSERT_CASE_EVENT = `INSERT INTO case_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`;

/** Bound: tenant, eventId. */
export const SELECT_CASE_EVENT_EXISTS = 'SELECT 1 AS found FROM case_events WHERE tenant = ? AND event_id = ?';

/** Whether the case has any event and an `opened` one. Bound: tenant, caseId. */
export const SELECT_CASE_STATE = `SELECT count(*) AS events, coalesce(max(kind = 'opened'), 0) AS opened
FROM case_events WHERE tenant = ? AND case_id = ?`;

/** One case's events in store order (at, then eventId). Bound: tenant, caseId. */
export const SELECT_CASE_EVENTS = `SELECT ${COLUMNS} FROM case_events
WHERE tenant = ? AND case_id = ?
ORDER BY at, event_id`;

/** Every case event of the tenant in store order. Bound: tenant. */
export const SELECT_TENANT_CASE_EVENTS = `SELECT ${COLUMNS} FROM case_events
WHERE tenant = ?
ORDER BY at, event_id`;
