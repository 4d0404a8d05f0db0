import {
  caseEventRows,
  caseEventsFromRows,
  checkCaseAppend,
  checkText,
  type CaseEvent,
  type CaseEventRow,
  type CaseStore,
} from '@phi-audit/rules';
import * as sql from './case-statements.js';
import { checkedValues } from './errors.js';
import type { DetectionTableAccess } from './detection-table-access.js';
import { lookupSettingsFor } from './query-settings.js';

/** A stored row as the server returns it (`at` as text: JSONEachRow quotes UInt64). */
type CaseEventRowText = Omit<CaseEventRow, 'at'> & { at_ms: string };

type StoredKeyRow = { tenant: string; case_id: string; event_id: string; kind: string };

const key = (tenant: string, id: string) => JSON.stringify([tenant, id]);

/**
 * The CaseStore of the ClickHouse detection store (table of migration 5). ClickHouse has no
 * transactions, so appendCaseEvents reads what is stored of the named cases and events with one
 * query, applies the append rules, then writes every event in one INSERT (one block, one part:
 * all or nothing). Two writers could both pass the check before either inserts (the same caseId
 * opened twice, the same eventId twice): both are console-generated UUIDs, so that race needs a
 * UUID collision or a replayed request racing its original; it is accepted, and a read of two
 * different rows under one eventId fails loudly rather than pick one.
 */
export function createClickHouseCaseStore(options: DetectionTableAccess): CaseStore {
  const { database: db, logger, select, insert } = options;

  async function storedKeys(rows: readonly CaseEventRow[]) {
    const byTenant = new Map<string, { caseIds: Set<string>; eventIds: Set<string> }>();
    for (const r of rows) {
      let k = byTenant.get(r.tenant);
      if (k === undefined) byTenant.set(r.tenant, (k = { caseIds: new Set(), eventIds: new Set() }));
      k.caseIds.add(r.case_id);
      k.eventIds.add(r.event_id);
    }
    const query = sql.selectStoredCaseKeys(db, byTenant);
    const stored = await select<StoredKeyRow>(query, 'checking stored cases', {
      ...lookupSettingsFor(Buffer.byteLength(query)),
    });
    const events = new Set<string>();
    const cases = new Set<string>();
    const opened = new Set<string>();
    for (const s of stored) {
      events.add(key(s.tenant, s.event_id));
      cases.add(key(s.tenant, s.case_id));
      if (s.kind === 'opened') opened.add(key(s.tenant, s.case_id));
    }
    return {
      hasEvent: (tenant: string, eventId: string) => events.has(key(tenant, eventId)),
      hasCase: (tenant: string, caseId: string) => cases.has(key(tenant, caseId)),
      isOpened: (tenant: string, caseId: string) => opened.has(key(tenant, caseId)),
    };
  }

  const fromText = (rows: readonly CaseEventRowText[]) =>
    checkedValues(() => caseEventsFromRows(rows.map(({ at_ms, ...r }) => ({ ...r, at: at_ms }))));

  return {
    async appendCaseEvents(events: readonly CaseEvent[]): Promise<void> {
      const rows = checkedValues(() => caseEventRows(events));
      if (rows.length === 0) return;
      const stored = await storedKeys(rows);
      checkedValues(() => checkCaseAppend(rows, stored));
      await insert(sql.caseEventsTable(db), sql.CASE_EVENT_COLUMNS, rows, 'insert of case events');
      logger.info({ events: rows.length }, 'stored case events');
    },

    async caseEvents(tenant: string, caseId: string): Promise<CaseEvent[]> {
      const t = checkedValues(() => checkText('tenant', tenant));
      const id = checkedValues(() => checkText('caseId', caseId));
      return fromText(await select<CaseEventRowText>(sql.selectCaseEvents(db, t, id), 'reading case events'));
    },

    async tenantCaseEvents(tenant: string): Promise<CaseEvent[]> {
      const t = checkedValues(() => checkText('tenant', tenant));
      return fromText(
        await select<CaseEventRowText>(sql.selectTenantCaseEvents(db, t), 'reading the case events of a tenant'),
      );
    },
  };
}
