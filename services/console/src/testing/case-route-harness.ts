import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Role } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import type { AccessRow } from '@phi-audit/ledger';
import { alertId, type Alert, type AlertKey } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import type { CaseDetail } from '../routes/case-schemas.js';
import { registerCaseRoutes } from '../routes/cases.js';
import { createRouteTestApp } from './route-test-app.js';
import { openSqliteConsoleStores, type SqliteConsoleStores } from './sqlite-console-stores.js';

/**
 * The case routes on real SQLite detection and ledger stores in a temp dir (tests only), with
 * alerts of two tenants, the console's audit events going to the same ledger, a settable clock
 * and a ledger that can be made to refuse (503 paths). Requests act as user `priya`.
 */

/** Tenant A holds a1 (MRN-1), a2 (MRN-2) and a3 (no patient); tenant B holds b1. */
export const A = 'clinic-a';
export const B = 'clinic-b';
export const T0 = Date.UTC(2026, 2, 10, 12); // 2026-03-10 12:00Z
export const DAY = 86_400_000;

function makeAlert(key: AlertKey, riskScore: number): Alert {
  return {
    alertId: alertId(key),
    tenant: key.tenant,
    ruleId: key.ruleId,
    userId: key.userId,
    ...(key.patientId !== undefined ? { patientId: key.patientId } : {}),
    day: key.day,
    severity: 'high',
    riskScore,
    explanation: 'A user looked at a record outside the usual pattern.',
    truncated: false,
    firstEventAt: T0 - DAY,
    lastEventAt: T0 - DAY,
    evidence: [{ source: 'ehr', eventId: `e-${riskScore}`, occurredAt: T0 - DAY }],
  };
}
export const a1 = makeAlert({ tenant: A, ruleId: 'vip', userId: 'dr-1', patientId: 'MRN-1', day: '2026-03-09' }, 80);
export const a2 = makeAlert({ tenant: A, ruleId: 'family', userId: 'dr-1', patientId: 'MRN-2', day: '2026-03-09' }, 70);
export const a3 = makeAlert({ tenant: A, ruleId: 'bulk-read', userId: 'dr-1', day: '2026-03-09' }, 60);
export const b1 = makeAlert({ tenant: B, ruleId: 'vip', userId: 'dr-9', patientId: 'MRN-B', day: '2026-03-09' }, 90);

export const OPEN_BODY = {
  title: 'Dr 1 and the Smith family',
  summary: 'Two alerts: a VIP record and a relative, same user.',
  alertIds: [a1.alertId, a2.alertId],
};
export const FACTOR = { level: 'high', notes: 'full record viewed' };
export const ASSESSMENT = {
  factors: { natureAndExtent: FACTOR, unauthorizedPerson: FACTOR, acquiredOrViewed: FACTOR, mitigation: FACTOR },
  conclusion: 'breach',
  rationale: 'The record was viewed without a need.',
};

export interface CaseHarness {
  app: FastifyInstance;
  detection: SqliteConsoleStores['detection'];
  ledger: SqliteConsoleStores['ledger'];
  /** The routes' clock (epoch ms) and whether the ledger refuses the audit events. */
  state: { now: number; ledgerDown: boolean };
  get(url: string, role?: Role): Promise<LightMyRequestResponse>;
  post(url: string, payload: object, role?: Role): Promise<LightMyRequestResponse>;
  /** Opens a case of tenant A (OPEN_BODY by default); throws unless 201. */
  openCase(body?: object): Promise<CaseDetail>;
  caseUrl(caseId: string, tenant?: string): string;
  /** The console's own access events of tenant A by priya (newest first). */
  consoleRows(): Promise<AccessRow[]>;
  recordedSince(before: readonly AccessRow[]): Promise<AccessRow[]>;
  /** [action, resource type, patient] of each row, sorted. */
  summary(rows: readonly AccessRow[]): string[][];
  close(): Promise<void>;
}

export async function createCaseHarness(): Promise<CaseHarness> {
  const stores = openSqliteConsoleStores('phi-console-cases-');
  const { detection, ledger, append } = stores;
  await detection.upsertAlerts([a1, a2, a3, b1]);
  const state = { now: T0, ledgerDown: false };
  const audit = createConsoleAuditTrail({
    publish: (events: readonly AccessEvent[]) =>
      state.ledgerDown ? Promise.reject(new Error('ledger down')) : append(events),
  });
  const app = await createRouteTestApp({
    tenants: [A],
    defaultUser: 'priya',
    register: (api) => registerCaseRoutes(api, { detection, audit, now: () => state.now }),
  });
  const get = (url: string, role: Role = 'privacy_officer') =>
    app.inject({ method: 'GET', url, headers: { 'x-test-role': role } });
  const post = (url: string, payload: object, role: Role = 'privacy_officer') =>
    app.inject({ method: 'POST', url, payload, headers: { 'x-test-role': role } });
  const consoleRows = (): Promise<AccessRow[]> =>
    ledger.accessesByUser({ tenant: A, userId: 'console:priya', limit: 1000 });
  return {
    app,
    detection,
    ledger,
    state,
    get,
    post,
    openCase: async (body: object = OPEN_BODY) => {
      const res = await post(`/api/tenants/${A}/cases`, body);
      if (res.statusCode !== 201) throw new Error(`opening a case answered ${res.statusCode}: ${res.body}`);
      return res.json<{ case: CaseDetail }>().case;
    },
    caseUrl: (id: string, tenant = A) => `/api/tenants/${tenant}/cases/${id}`,
    consoleRows,
    recordedSince: async (before) => {
      const seen = new Set(before.map((r) => r.eventId));
      return (await consoleRows()).filter((r) => !seen.has(r.eventId));
    },
    summary: (rows) =>
      rows.map((r) => [r.action, r.resourceType, r.patientId ?? '']).sort((x, y) => x.join().localeCompare(y.join())),
    close: async () => {
      await app.close();
      await stores.close();
    },
  };
}
