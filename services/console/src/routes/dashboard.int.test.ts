import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import { alertId, type Alert, type CaseEvent } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import { createConsoleFixture, type ConsoleFixture } from '../testing/console-fixture.js';
import { openSqliteConsoleStores, type SqliteConsoleStores } from '../testing/sqlite-console-stores.js';
import type { DashboardResponse } from './dashboard.js';
import { registerConsoleRoutes } from './index.js';

// Issue 6 item 7 (dashboard) through the whole console app (sessions, tenant check, OpenAPI)
// on real SQLite stores. The fixture's users hold tenant-a (the admin every tenant).
const A = 'tenant-a';
const B = 'tenant-b';
const NOW = 1_800_000_000_000; // 2027-01-15T08:00:00Z, the fixture's clock
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY_0115 = Date.UTC(2027, 0, 15);

function ehr(tenant: string, userId: string, occurredAt: number, outcome: 'success' | 'failure' = 'success') {
  const event: AccessEvent = {
    eventId: randomUUID(),
    tenant,
    occurredAt,
    receivedAt: occurredAt,
    source: { system: 'ehr' },
    actor: { userId },
    patient: { id: 'MRN-1' },
    action: 'view',
    resource: { type: 'Patient' },
    outcome,
  };
  return event;
}

function alertAged(age: number, n: number): Alert {
  const key = { tenant: A, ruleId: 'vip', userId: `dr-${n}`, patientId: `MRN-${n}`, day: '2027-01-01' };
  return {
    alertId: alertId(key),
    ...key,
    severity: 'high',
    riskScore: 50,
    explanation: 'VIP record viewed.',
    truncated: false,
    firstEventAt: NOW - age,
    lastEventAt: NOW - age,
    evidence: [{ source: 'ehr', eventId: `e-${n}`, occurredAt: NOW - age }],
  };
}

function caseEvents(discoveredOn: string, extra: (caseId: string) => CaseEvent[] = () => []): CaseEvent[] {
  const caseId = randomUUID();
  const opened: CaseEvent = {
    kind: 'opened',
    tenant: A,
    caseId,
    eventId: randomUUID(),
    at: NOW - 5 * DAY,
    by: 'po.a',
    title: 'A case of MRN-1',
    summary: 'Opened for the dashboard test.',
    alertIds: [alertAged(HOUR, 1).alertId],
    discoveredOn,
  };
  return [opened, ...extra(caseId)];
}
const later = (caseId: string) => ({ tenant: A, caseId, eventId: randomUUID(), at: NOW - DAY, by: 'po.a' });
const factor = { level: 'low' as const, notes: 'nothing taken' };

let f: ConsoleFixture;
let stores: SqliteConsoleStores;
let ledger: SqliteConsoleStores['ledger'];
let investigating = '';

beforeAll(async () => {
  stores = openSqliteConsoleStores('phi-console-dashboard-');
  ({ ledger } = stores);
  const { detection, append } = stores;
  await append([
    ehr(A, 'u1', NOW - 30 * 60_000),
    ehr(A, 'u2', NOW - 40 * 60_000, 'failure'),
    ehr(A, 'u1', NOW - 3 * DAY),
    ehr(A, 'u1', NOW - 20 * DAY),
    ehr(B, 'u9', NOW - 30 * 60_000),
  ]);
  const open = [alertAged(HOUR, 1), alertAged(2 * DAY, 2), alertAged(10 * DAY, 3), alertAged(40 * DAY, 4)];
  const decided = alertAged(50 * DAY, 5);
  await detection.upsertAlerts([...open, decided]);
  await detection.decide([
    {
      tenant: A,
      alertId: decided.alertId,
      decision: 'appropriate',
      reason: 'on call',
      decidedBy: 'po.a',
      decidedAt: NOW,
    },
  ]);
  const inv = caseEvents('2026-12-01', (id) => [
    { ...later(id), kind: 'status', status: 'investigating', reason: 'started' },
  ]);
  investigating = inv[0]!.caseId;
  await detection.appendCaseEvents([
    ...caseEvents('2027-01-10'),
    ...inv,
    ...caseEvents('2026-11-01', (id) => [{ ...later(id), kind: 'status', status: 'closed', reason: 'done' }]),
    // Overdue by its dates, but assessed as not a breach: no deadline to show.
    ...caseEvents('2026-11-20', (id) => [
      {
        ...later(id),
        kind: 'assessment',
        factors: { natureAndExtent: factor, unauthorizedPerson: factor, acquiredOrViewed: factor, mitigation: factor },
        conclusion: 'low_probability_of_compromise',
        rationale: 'returned unopened',
      },
    ]),
  ]);
  const audit = createConsoleAuditTrail({ publish: append });
  f = await createConsoleFixture({
    routes: async (api) => registerConsoleRoutes(api, { detection, ledger, audit, now: () => NOW }),
  });
});

afterAll(async () => {
  await f.close();
  await stores.close();
});

const get = async (url: string, role: Role = 'privacy_officer') => {
  const session = await f.login(role);
  return f.app.inject({ method: 'GET', url, headers: { cookie: session.cookie } });
};

describe('GET /api/tenants/:tenant/dashboard', () => {
  it('14 days of daily volume, the open-alert backlog by age and the cases with the next deadline', async () => {
    const res = await get(`/api/tenants/${A}/dashboard`, 'auditor');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<DashboardResponse>();
    const to = DAY_0115 + DAY;
    expect(body).toEqual({
      days: 14,
      volume: {
        bucket: 'day',
        from: to - 14 * DAY,
        to,
        buckets: [
          { start: DAY_0115 - 3 * DAY, events: 1, failures: 0, users: 1 },
          { start: DAY_0115, events: 2, failures: 1, users: 2 },
        ],
      },
      alerts: {
        open: 4,
        byRule: { vip: 4 },
        bySeverity: { high: 4 },
        oldestOpenFirstEventAt: NOW - 40 * DAY,
        backlog: { under1d: 1, d1to7: 1, d7to30: 1, over30: 1 },
      },
      cases: {
        open: 2,
        investigating: 1,
        closed: 1,
        nextDeadline: { caseId: investigating, deadline: '2027-01-30', daysRemaining: 15 },
      },
    });
    // Counts only.
    expect(res.body).not.toMatch(/MRN-|dr-|A case of/);
  });

  it('hourly buckets up to 3 days; a longer window reaches older events', async () => {
    const two = (await get(`/api/tenants/${A}/dashboard?days=2`)).json<DashboardResponse>();
    const to = NOW + HOUR; // the current hour (08:00Z) is the last bucket
    expect(two.volume).toEqual({
      bucket: 'hour',
      from: to - 2 * DAY,
      to,
      buckets: [{ start: NOW - HOUR, events: 2, failures: 1, users: 2 }],
    });
    const month = (await get(`/api/tenants/${A}/dashboard?days=30`)).json<DashboardResponse>();
    expect(month.volume.bucket).toBe('day');
    expect(month.volume.buckets.map((b) => b.events)).toEqual([1, 1, 2]);
  });

  it('400 naming days when it is not 1 to 365; unknown parameters refused', async () => {
    for (const q of ['days=0', 'days=366', 'days=abc', 'days=1.5', 'colour=red']) {
      const res = await get(`/api/tenants/${A}/dashboard?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.message, q).toContain(q.startsWith('days') ? 'query.days' : 'colour');
    }
  });

  it('every role of the tenant may read it, nobody else`s tenant, and nothing is recorded', async () => {
    for (const role of ['privacy_officer', 'investigator', 'admin', 'auditor'] as const) {
      expect((await get(`/api/tenants/${A}/dashboard`, role)).statusCode, role).toBe(200);
    }
    expect((await get(`/api/tenants/${B}/dashboard`, 'auditor')).statusCode).toBe(404);
    const b = (await get(`/api/tenants/${B}/dashboard`, 'admin')).json<DashboardResponse>();
    expect(b.volume.buckets).toEqual([{ start: DAY_0115, events: 1, failures: 0, users: 1 }]);
    expect([b.alerts.open, b.cases.open, b.cases.nextDeadline]).toEqual([0, 0, undefined]);
    for (const user of ['po.a', 'inv.a', 'admin', 'aud.a']) {
      expect(await ledger.accessesByUser({ tenant: A, userId: `console:${user}`, limit: 10 })).toEqual([]);
    }
  });
});

describe('OpenAPI', () => {
  it('documents the case and dashboard routes with their bodies and answers', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>();
    const cases = '/api/tenants/{tenant}/cases';
    for (const [path, method] of [
      [cases, 'get'],
      [cases, 'post'],
      [`${cases}/{caseId}`, 'get'],
      [`${cases}/{caseId}/notes`, 'post'],
      [`${cases}/{caseId}/status`, 'post'],
      [`${cases}/{caseId}/alerts`, 'post'],
      [`${cases}/{caseId}/assessment`, 'post'],
      [`${cases}/{caseId}/breach-facts`, 'post'],
      ['/api/tenants/{tenant}/dashboard', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const detail = JSON.stringify(doc.paths[`${cases}/{caseId}`]?.get?.responses);
    expect(detail).toContain('breachClock');
    expect(detail).toContain('daysRemaining');
    expect(JSON.stringify(doc.paths[cases]?.post?.requestBody)).toContain('discoveredOn');
    expect(JSON.stringify(doc.paths['/api/tenants/{tenant}/dashboard']?.get)).toContain('under1d');
  });
});
