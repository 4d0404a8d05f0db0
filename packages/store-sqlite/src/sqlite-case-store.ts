import type Database from 'better-sqlite3';
import {
  caseEventRows,
  caseEventsFromRows,
  checkCaseAppend,
  checkText,
  type CaseEvent,
  type CaseEventRow,
  type CaseStore,
} from '@phi-audit/rules';
import type { Logger } from 'pino';
import * as sql from './case-statements.js';
import { checkedValues } from './errors.js';

/** What the case store needs from the detection store: its connection and its transaction wrappers. */
export interface SqliteCaseStoreOptions {
  db: Database.Database;
  logger: Logger;
  /** Runs `fn` in one read transaction (STORE_QUERY_FAILED on failure). */
  read: <T>(what: string, fn: () => T) => T;
  /** Runs `fn` in one IMMEDIATE transaction (StoreErrors pass through; STORE_FULL, STORE_INSERT_FAILED). */
  write: <T>(what: string, fn: () => T) => T;
}

/**
 * The CaseStore of the SQLite detection store, on the same connection: events in `case_events`
 * (migration 3). appendCaseEvents checks the append rules and inserts in one IMMEDIATE
 * transaction, so the checks read what the insert will sit beside and a refused call stores
 * nothing.
 */
export function createSqliteCaseStore(options: SqliteCaseStoreOptions): CaseStore {
  const { db, logger, read, write } = options;
  const stmt = {
    insert: db.prepare<[string, string, string, number, string, string, string]>(sql.INSERT_CASE_EVENT),
    eventExists: db.prepare<[string, string], { found: number }>(sql.SELECT_CASE_EVENT_EXISTS),
    caseState: db.prepare<[string, string], { events: number; opened: number }>(sql.SELECT_CASE_STATE),
    caseEvents: db.prepare<[string, string], CaseEventRow>(sql.SELECT_CASE_EVENTS),
    tenantEvents: db.prepare<[string], CaseEventRow>(sql.SELECT_TENANT_CASE_EVENTS),
  };

  return {
    appendCaseEvents(events: readonly CaseEvent[]): Promise<void> {
      const rows = checkedValues(() => caseEventRows(events));
      if (rows.length === 0) return Promise.resolve();
      write(`storing ${rows.length} case events`, () => {
        checkedValues(() =>
          checkCaseAppend(rows, {
            hasEvent: (tenant, eventId) => stmt.eventExists.get(tenant, eventId) !== undefined,
            hasCase: (tenant, caseId) => (stmt.caseState.get(tenant, caseId)?.events ?? 0) > 0,
            isOpened: (tenant, caseId) => (stmt.caseState.get(tenant, caseId)?.opened ?? 0) > 0,
          }),
        );
        for (const r of rows) stmt.insert.run(r.tenant, r.case_id, r.event_id, r.at, r.by, r.kind, r.body);
      });
      logger.info({ events: rows.length }, 'stored case events');
      return Promise.resolve();
    },

    caseEvents(tenant: string, caseId: string): Promise<CaseEvent[]> {
      const t = checkedValues(() => checkText('tenant', tenant));
      const id = checkedValues(() => checkText('caseId', caseId));
      const rows = read('reading case events', () => stmt.caseEvents.all(t, id));
      return Promise.resolve(checkedValues(() => caseEventsFromRows(rows)));
    },

    tenantCaseEvents(tenant: string): Promise<CaseEvent[]> {
      const t = checkedValues(() => checkText('tenant', tenant));
      const rows = read('reading the case events of a tenant', () => stmt.tenantEvents.all(t));
      return Promise.resolve(checkedValues(() => caseEventsFromRows(rows)));
    },
  };
}
