import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import type { AccessRow } from '@phi-audit/ledger';
import { alertId, type Alert, type AlertDecision, type AlertKey, type ReviewedAlert } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import {
  createSqliteDetectionStore,
  createSqliteLedgerStore,
  detectionFileIn,
  embeddedOrigin,
  ledgerFileIn,
  type SqliteDetectionStore,
  type SqliteLedgerStore,
} from '@phi-audit/store-sqlite';
import type { EvidenceEntry } from './alert-context.js';
import { createRouteTestApp } from '../testing/route-test-app.js';
import { createSqliteLedgerAppender } from '../testing/sqlite-ledger-appender.js';
import { registerAlertRoutes } from './alerts.js';

interface ListBody {
  total: number;
  limit: number;
  offset: number;
  items: ReviewedAlert[];
}
interface DetailBody {
  alert: Alert;
  status: string;
  decisions: AlertDecision[];
  missingEvidence: number;
  evidence: EvidenceEntry[];
  userTimeline: AccessRow[];
  patientTimeline: AccessRow[] | null;
}

// Issue 6 item 3 (alert review) and item 8 (audit before disclose), against real SQLite
// detection and ledger stores; the console's audit events are appended to the same ledger.
const A = 'clinic-a';
const B = 'clinic-b';
const T0 = Date.UTC(2026, 2, 10, 12); // 2026-03-10 12:00Z
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function ehr(tenant: string, eventId: string, userId: string, patientId: string, occurredAt: number): AccessEvent {
  return {
    eventId,
    tenant,
    occurredAt,
    receivedAt: occurredAt + 1000,
    source: { system: 'ehr' },
    actor: { userId, role: 'physician' },
    patient: { id: patientId },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
  };
}

function makeAlert(key: AlertKey, extra: Partial<Alert> & Pick<Alert, 'evidence'>): Alert {
  const times = extra.evidence.map((e) => e.occurredAt);
  return {
    alertId: alertId(key),
    tenant: key.tenant,
    ruleId: key.ruleId,
    userId: key.userId,
    ...(key.patientId !== undefined ? { patientId: key.patientId } : {}),
    day: key.day,
    severity: 'medium',
    riskScore: 50,
    explanation: 'A user looked at a record outside the usual pattern.',
    truncated: false,
    firstEventAt: Math.min(...times),
    lastEventAt: Math.max(...times),
    ...extra,
  };
}

const ev = (eventId: string, occurredAt: number) => ({ source: 'ehr', eventId, occurredAt });

// Tenant A: a1 (vip, dr-1 → MRN-1, high 80), a2 (after hours, dr-2 → MRN-2, medium 50),
// a3 (bulk read by dr-1, no patient, critical 95). Tenant B: b1 shares rule, user, patient and
// even an event id with a1.
const a1 = makeAlert(
  { tenant: A, ruleId: 'vip', userId: 'dr-1', patientId: 'MRN-1', day: '2026-03-10' },
  { severity: 'high', riskScore: 80, evidence: [ev('e-1', T0), ev('e-2', T0 + HOUR)] },
);
const a2 = makeAlert(
  { tenant: A, ruleId: 'after-hours', userId: 'dr-2', patientId: 'MRN-2', day: '2026-03-11' },
  { evidence: [ev('e-3', T0 + DAY)] },
);
const a3 = makeAlert(
  { tenant: A, ruleId: 'bulk-read', userId: 'dr-1', day: '2026-03-09' },
  { severity: 'critical', riskScore: 95, evidence: [ev('e-4', T0 - DAY), ev('e-5', T0 - DAY + 60_000)] },
);
const b1 = makeAlert(
  { tenant: B, ruleId: 'vip', userId: 'dr-1', patientId: 'MRN-1', day: '2026-03-10' },
  { severity: 'critical', riskScore: 99, explanation: 'Tenant B secret explanation.', evidence: [ev('e-1', T0)] },
);

const EHR_EVENTS: AccessEvent[] = [
  ehr(A, 'e-old', 'dr-1', 'MRN-9', T0 - 9 * DAY), // before every timeline window
  ehr(A, 'e-4', 'dr-1', 'MRN-3', T0 - DAY),
  ehr(A, 'e-5', 'dr-1', 'MRN-4', T0 - DAY + 60_000),
  ehr(A, 'e-1', 'dr-1', 'MRN-1', T0),
  ehr(A, 'e-2', 'dr-1', 'MRN-1', T0 + HOUR),
  ehr(A, 'e-nurse', 'nurse-7', 'MRN-1', T0 + 2 * HOUR),
  ehr(A, 'e-3', 'dr-2', 'MRN-2', T0 + DAY),
  ehr(B, 'e-1', 'dr-1', 'MRN-B', T0),
  ehr(B, 'e-b2', 'dr-1', 'MRN-1', T0 + HOUR),
];

describe('alert review routes', () => {
  let dir: string;
  let ledger: SqliteLedgerStore;
  let detection: SqliteDetectionStore;
  let app: FastifyInstance;
  let ledgerDown = false;
  let appendEvents: (events: readonly AccessEvent[]) => Promise<void>;

  /** The console's own access events of `tenant` (newest first). */
  const consoleRows = (tenant: string, username = 'priya'): Promise<AccessRow[]> =>
    ledger.accessesByUser({ tenant, userId: `console:${username}`, limit: 1000 });
  /** The console's events of tenant A stored since `before` was read. */
  const recordedSince = async (before: readonly AccessRow[]): Promise<AccessRow[]> => {
    const seen = new Set(before.map((r) => r.eventId));
    return (await consoleRows(A)).filter((r) => !seen.has(r.eventId));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phi-console-alerts-'));
    ledger = createSqliteLedgerStore({ file: ledgerFileIn(dir) });
    appendEvents = createSqliteLedgerAppender(ledger);
    detection = createSqliteDetectionStore({ file: detectionFileIn(dir) });
    await appendEvents(EHR_EVENTS);
    await detection.upsertAlerts([a1, a2, a3, b1]);

    const audit = createConsoleAuditTrail({
      publish: (events) => (ledgerDown ? Promise.reject(new Error('ledger down')) : appendEvents(events)),
    });
    app = await createRouteTestApp({
      tenants: [A],
      defaultUser: 'priya',
      register: (api) => {
        registerAlertRoutes(api, { review: detection, detection, ledger, audit, now: () => T0 + 10 * DAY });
      },
    });
  });

  afterAll(async () => {
    await app.close();
    await detection.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    ledgerDown = false;
  });

  const get = (url: string, role: Role = 'privacy_officer') =>
    app.inject({ method: 'GET', url, headers: { 'x-test-role': role } });
  const post = (url: string, payload: object, role: Role = 'privacy_officer') =>
    app.inject({ method: 'POST', url, payload, headers: { 'x-test-role': role } });
  const ids = (body: ListBody) => body.items.map((i) => i.alert.alertId);

  describe('list', () => {
    it('sorts by risk by default, only the tenant`s alerts, and records a search naming the patients shown', async () => {
      const before = await consoleRows(A);
      const res = await get(`/api/tenants/${A}/alerts`);
      expect(res.statusCode).toBe(200);
      const body = res.json<ListBody>();
      expect(body.total).toBe(3);
      expect(ids(body)).toEqual([a3.alertId, a1.alertId, a2.alertId]);
      expect(body.items.every((i) => i.status === 'open')).toBe(true);
      expect(res.body).not.toContain('Tenant B secret');
      expect(res.body).not.toContain(b1.alertId);
      const rows = await recordedSince(before);
      expect(rows.map((r) => [r.action, r.resourceType, r.patientId]).sort()).toEqual([
        ['query', 'phi-audit.search', 'MRN-1'],
        ['query', 'phi-audit.search', 'MRN-2'],
      ]);
    });

    it('filters by rule, user, patient, severity, days and status; sorts by day; pages', async () => {
      const url = `/api/tenants/${A}/alerts`;
      expect(ids((await get(`${url}?rule=vip`)).json<ListBody>())).toEqual([a1.alertId]);
      expect(ids((await get(`${url}?user=dr-1`)).json<ListBody>())).toEqual([a3.alertId, a1.alertId]);
      expect(ids((await get(`${url}?patient=MRN-2`)).json<ListBody>())).toEqual([a2.alertId]);
      expect(ids((await get(`${url}?minSeverity=high`)).json<ListBody>())).toEqual([a3.alertId, a1.alertId]);
      expect(ids((await get(`${url}?from=2026-03-10&to=2026-03-11`)).json<ListBody>())).toEqual([
        a1.alertId,
        a2.alertId,
      ]);
      expect(ids((await get(`${url}?sort=day`)).json<ListBody>())).toEqual([a2.alertId, a1.alertId, a3.alertId]);
      const page = (await get(`${url}?limit=1&offset=1`)).json<ListBody>();
      expect([page.total, page.limit, page.offset, ids(page)]).toEqual([3, 1, 1, [a1.alertId]]);
      expect(ids((await get(`${url}?status=escalated,false_positive`)).json<ListBody>())).toEqual([]);
      expect(ids((await get(`${url}?status=open&status=appropriate`)).json<ListBody>())).toHaveLength(3);
    });

    it('rejects a malformed or unknown filter with 400 naming it, and records nothing', async () => {
      const before = await consoleRows(A);
      for (const [query, field] of [
        ['minSeverity=huge', 'query.minSeverity'],
        ['limit=5000', 'query.limit'],
        ['from=yesterday', 'query.from'],
        ['status=closed', 'query.status'],
        ['colour=red', 'colour'],
      ] as const) {
        const res = await get(`/api/tenants/${A}/alerts?${query}`);
        expect(res.statusCode).toBe(400);
        expect(res.json().error.code).toBe('CONSOLE_INVALID_REQUEST');
        expect(res.json().error.message).toContain(field);
      }
      expect(await recordedSince(before)).toEqual([]);
    });

    it('is refused to auditors (no PHI search); the summary is not', async () => {
      expect((await get(`/api/tenants/${A}/alerts`, 'auditor')).statusCode).toBe(403);
      expect((await get(`/api/tenants/${A}/alerts/${a1.alertId}`, 'auditor')).statusCode).toBe(403);
      const summary = await get(`/api/tenants/${A}/alerts/summary`, 'auditor');
      expect(summary.statusCode).toBe(200);
      expect(summary.json()).toMatchObject({ byRule: { vip: expect.any(Number) } });
      expect(summary.body).not.toContain('MRN-');
    });
  });

  describe('detail', () => {
    it('shows the evidence events from the ledger and both timelines, recorded before it is sent', async () => {
      const before = await consoleRows(A);
      const res = await get(`/api/tenants/${A}/alerts/${a1.alertId}`, 'investigator');
      expect(res.statusCode).toBe(200);
      const body = res.json<DetailBody>();
      expect(body.alert).toEqual(a1);
      expect(body.status).toBe('open');
      expect(body.decisions).toEqual([]);
      expect(body.missingEvidence).toBe(0);
      expect(body.evidence.map((e) => [e.event.eventId, e.event.patient?.id])).toEqual([
        ['e-1', 'MRN-1'],
        ['e-2', 'MRN-1'],
      ]);
      expect(body.evidence[0]?.origin).toBe(embeddedOrigin(A));
      // dr-1 in [T0 − 7 d, T0 + 1 h + 1 d): not e-old (9 days before), nothing of tenant B.
      expect(body.userTimeline.map((r) => r.eventId)).toEqual(['e-2', 'e-1', 'e-5', 'e-4']);
      expect(body.patientTimeline?.map((r) => r.eventId)).toEqual(['e-nurse', 'e-2', 'e-1']);
      expect(res.body).not.toContain('MRN-B');
      expect(res.body).not.toContain('e-b2');

      const rows = await recordedSince(before);
      expect(rows.map((r) => [r.resourceType, r.patientId]).sort()).toEqual([
        ['phi-audit.alert', 'MRN-1'],
        ['phi-audit.patient-timeline', 'MRN-1'],
        ['phi-audit.user-timeline', 'MRN-1'],
        ['phi-audit.user-timeline', 'MRN-3'],
        ['phi-audit.user-timeline', 'MRN-4'],
      ]);
    });

    it('a user-level alert has no patient timeline; its evidence patients are each recorded', async () => {
      const before = await consoleRows(A);
      const body = (await get(`/api/tenants/${A}/alerts/${a3.alertId}`)).json<DetailBody>();
      expect(body.evidence.map((e) => e.event.patient?.id)).toEqual(['MRN-3', 'MRN-4']);
      expect(body.patientTimeline).toBeNull();
      const rows = await recordedSince(before);
      expect(rows.filter((r) => r.resourceType === 'phi-audit.user-timeline').map((r) => r.patientId)).toEqual(
        expect.arrayContaining(['MRN-3', 'MRN-4']),
      );
      expect(rows.find((r) => r.resourceType === 'phi-audit.alert')?.patientId).toBe('phi-audit:no-patient');
    });

    it('another tenant`s alert is 404 naming nothing, and nothing is recorded', async () => {
      const before = await consoleRows(A);
      const res = await get(`/api/tenants/${A}/alerts/${b1.alertId}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'CONSOLE_NOT_FOUND', message: 'not found' } });
      expect((await get(`/api/tenants/${A}/alerts/not-an-id`)).statusCode).toBe(400);
      expect(await recordedSince(before)).toEqual([]);
      expect(await consoleRows(B)).toEqual([]);
    });
  });

  describe('decisions', () => {
    it('a single decision needs a reason, is recorded, then stored; 201 with the status', async () => {
      const url = `/api/tenants/${A}/alerts/${a2.alertId}/decisions`;
      for (const payload of [{ decision: 'appropriate' }, { decision: 'appropriate', reason: '  a  ' }]) {
        const res = await post(url, payload);
        expect(res.statusCode).toBe(400);
        expect(res.json().error.message).toContain('body.reason');
      }
      expect((await post(url, { decision: 'ignore', reason: 'valid reason' })).statusCode).toBe(400);
      expect(await detection.decisions(A, a2.alertId)).toEqual([]);

      const before = await consoleRows(A);
      const res = await post(url, { decision: 'appropriate', reason: 'Covering for a colleague.' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ status: 'appropriate', decision: 'appropriate' });
      expect(await detection.decisions(A, a2.alertId)).toEqual([
        {
          tenant: A,
          alertId: a2.alertId,
          decision: 'appropriate',
          reason: 'Covering for a colleague.',
          decidedBy: 'priya',
          decidedAt: T0 + 10 * DAY,
        },
      ]);
      const rows = await recordedSince(before);
      expect(rows.map((r) => [r.action, r.resourceType, r.patientId])).toEqual([
        ['update', 'phi-audit.alert', 'MRN-2'],
      ]);
      const detail = (await get(`/api/tenants/${A}/alerts/${a2.alertId}`)).json<DetailBody>();
      expect([detail.status, detail.decisions.length]).toEqual(['appropriate', 1]);
      expect(ids((await get(`/api/tenants/${A}/alerts?status=appropriate`)).json<ListBody>())).toEqual([a2.alertId]);
    });

    it('investigators may not decide', async () => {
      const res = await post(
        `/api/tenants/${A}/alerts/${a1.alertId}/decisions`,
        { decision: 'escalated', reason: 'Looks like snooping.' },
        'investigator',
      );
      expect(res.statusCode).toBe(403);
      expect(await detection.decisions(A, a1.alertId)).toEqual([]);
    });

    it('an unknown or another tenant`s alert is 404 with nothing stored or recorded', async () => {
      const before = await consoleRows(A);
      for (const id of ['0'.repeat(64), b1.alertId]) {
        const res = await post(`/api/tenants/${A}/alerts/${id}/decisions`, {
          decision: 'false_positive',
          reason: 'Not relevant.',
        });
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('CONSOLE_NOT_FOUND');
      }
      expect(await detection.decisions(B, b1.alertId)).toEqual([]);
      expect(await recordedSince(before)).toEqual([]);
    });

    it('bulk: all or nothing; 404 when any is not the tenant`s; then every alert decided and recorded', async () => {
      const url = `/api/tenants/${A}/alerts/decisions`;
      const payload = { decision: 'false_positive', reason: 'Scheduled chart review.' };
      const before = await consoleRows(A);
      const refused = await post(url, { ...payload, alertIds: [a1.alertId, b1.alertId, a3.alertId] });
      expect(refused.statusCode).toBe(404);
      expect(refused.body).not.toContain(b1.alertId);
      expect(await detection.decisions(A, a1.alertId)).toEqual([]);
      expect(await detection.decisions(A, a3.alertId)).toEqual([]);
      expect(await recordedSince(before)).toEqual([]);

      expect((await post(url, { ...payload, alertIds: [] })).statusCode).toBe(400);
      expect((await post(url, { ...payload, alertIds: Array(501).fill(a1.alertId) })).statusCode).toBe(400);

      const res = await post(url, { ...payload, alertIds: [a1.alertId, a3.alertId, a1.alertId] });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ decided: 2, decision: 'false_positive' });
      expect((await detection.decisions(A, a1.alertId)).map((d) => d.decision)).toEqual(['false_positive']);
      expect((await detection.decisions(A, a3.alertId)).map((d) => d.decision)).toEqual(['false_positive']);
      const rows = await recordedSince(before);
      expect(rows.map((r) => r.patientId).sort()).toEqual(['MRN-1', 'phi-audit:no-patient']);
      expect(ids((await get(`/api/tenants/${A}/alerts?status=open`)).json<ListBody>())).toEqual([]);
    });
  });

  describe('when the ledger does not acknowledge', () => {
    it('answers 503 and discloses nothing; no decision is stored', async () => {
      ledgerDown = true;
      const before = await consoleRows(A);
      for (const res of [await get(`/api/tenants/${A}/alerts/${a1.alertId}`), await get(`/api/tenants/${A}/alerts`)]) {
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ error: { code: 'CONSOLE_AUDIT_UNAVAILABLE', message: expect.any(String) } });
        for (const secret of ['MRN-', 'dr-1', a1.alertId, a1.explanation]) expect(res.body).not.toContain(secret);
      }
      const decided = await detection.decisions(A, a1.alertId);
      const res = await post(`/api/tenants/${A}/alerts/${a1.alertId}/decisions`, {
        decision: 'escalated',
        reason: 'Looks like snooping.',
      });
      expect(res.statusCode).toBe(503);
      expect(await detection.decisions(A, a1.alertId)).toEqual(decided);
      ledgerDown = false;
      expect(await recordedSince(before)).toEqual([]);
    });
  });
});
