import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alertId, type Alert } from '@phi-audit/rules';
import {
  a1,
  a2,
  a3,
  A,
  B,
  b1,
  createCaseHarness,
  DAY,
  OPEN_BODY,
  T0,
  type CaseHarness,
} from '../testing/case-route-harness.js';
import type { CaseDetail, CaseSummary } from './case-schemas.js';

// Issue 6 item 4 (cases): opening, the case page and the list, against real SQLite stores; the
// console's audit events go to the same ledger (case-route-harness.ts).
let h: CaseHarness;
beforeAll(async () => {
  h = await createCaseHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.state.ledgerDown = false;
  h.state.now = T0;
});

describe('open', () => {
  it('stores the case, escalates each alert into it and records both before answering', async () => {
    const before = await h.consoleRows();
    const c = await h.openCase();
    expect(c).toMatchObject({
      title: OPEN_BODY.title,
      summary: OPEN_BODY.summary,
      status: 'open',
      openedAt: T0,
      openedBy: 'priya',
      updatedAt: T0,
      discoveredOn: '2026-03-10', // today in UTC by default
      alertIds: [a1.alertId, a2.alertId],
      notes: [],
      breachClock: {
        status: 'running',
        today: '2026-03-10',
        individuals: { deadline: '2026-05-09', daysRemaining: 60, overdue: false },
        hhs: { notice: 'unknown' },
        media: { notice: 'unknown' },
      },
    });
    expect(c.caseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.alerts.map((a) => [a.alertId, a.patientId, a.status, a.ruleId])).toEqual([
      [a1.alertId, 'MRN-1', 'escalated', 'vip'],
      [a2.alertId, 'MRN-2', 'escalated', 'family'],
    ]);
    expect(c.history).toHaveLength(1);
    expect(c.history[0]).toMatchObject({ kind: 'opened', caseId: c.caseId, by: 'priya', at: T0 });
    expect(c.history[0]).not.toHaveProperty('tenant');
    const decisions = await h.detection.decisions(A, a1.alertId);
    expect(decisions).toEqual([
      expect.objectContaining({ decision: 'escalated', caseId: c.caseId, reason: OPEN_BODY.summary }),
    ]);
    expect(h.summary(await h.recordedSince(before))).toEqual([
      ['create', 'phi-audit.case', 'MRN-1'],
      ['create', 'phi-audit.case', 'MRN-2'],
      ['update', 'phi-audit.alert', 'MRN-1'],
      ['update', 'phi-audit.alert', 'MRN-2'],
    ]);
  });

  it('takes a discovery day given', async () => {
    const c = await h.openCase({ ...OPEN_BODY, alertIds: [a3.alertId], discoveredOn: '2026-02-01' });
    expect(c.discoveredOn).toBe('2026-02-01');
    expect(c.breachClock.individuals).toEqual({ deadline: '2026-04-02', daysRemaining: 23, overdue: false });
    expect(c.alerts.map((a) => a.patientId)).toEqual([undefined]);
  });

  it('404 and nothing stored or recorded when an alert is not the tenant`s', async () => {
    const cases = (await h.detection.tenantCaseEvents(A)).length;
    const before = await h.consoleRows();
    const res = await h.post(`/api/tenants/${A}/cases`, { ...OPEN_BODY, alertIds: [a1.alertId, b1.alertId] });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('CONSOLE_NOT_FOUND');
    expect((await h.detection.tenantCaseEvents(A)).length).toBe(cases);
    expect(await h.detection.decisions(B, b1.alertId)).toEqual([]);
    expect(await h.recordedSince(before)).toEqual([]);
  });

  it.each([
    [{ ...OPEN_BODY, title: undefined }, 'body.title'],
    [{ ...OPEN_BODY, summary: 'no' }, 'body.summary'],
    [{ ...OPEN_BODY, alertIds: [] }, 'body.alertIds'],
    [{ ...OPEN_BODY, alertIds: ['abc'] }, 'body.alertIds'],
    [{ ...OPEN_BODY, discoveredOn: '2026-02-30' }, 'body.discoveredOn'],
    [{ ...OPEN_BODY, colour: 'red' }, 'colour'],
  ])('400 naming the field: %j', async (body, field) => {
    const res = await h.post(`/api/tenants/${A}/cases`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CONSOLE_INVALID_REQUEST');
    expect(res.json().error.message).toContain(field);
  });

  it('is for privacy officers and admins only', async () => {
    for (const role of ['investigator', 'auditor'] as const) {
      expect((await h.post(`/api/tenants/${A}/cases`, OPEN_BODY, role)).statusCode).toBe(403);
    }
  });

  it('503 and nothing stored when the ledger does not acknowledge', async () => {
    const cases = (await h.detection.tenantCaseEvents(A)).length;
    h.state.ledgerDown = true;
    const res = await h.post(`/api/tenants/${A}/cases`, { ...OPEN_BODY, alertIds: [a3.alertId] });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('CONSOLE_AUDIT_UNAVAILABLE');
    expect((await h.detection.tenantCaseEvents(A)).length).toBe(cases);
  });
});

describe('detail', () => {
  it('records view_case naming the alerts` patients before answering', async () => {
    const c = await h.openCase();
    const before = await h.consoleRows();
    const res = await h.get(h.caseUrl(c.caseId), 'investigator');
    expect(res.statusCode).toBe(200);
    const detail = res.json<CaseDetail>();
    expect(detail).toEqual({ ...c, alerts: detail.alerts });
    expect(detail.alerts.map((a) => a.status)).toEqual(['escalated', 'escalated']);
    expect(h.summary(await h.recordedSince(before))).toEqual([
      ['view', 'phi-audit.case', 'MRN-1'],
      ['view', 'phi-audit.case', 'MRN-2'],
    ]);
  });

  it('a case of more than 1,000 alerts lists each in the case`s order with its own status', async () => {
    // Risk rises with i, so the case's order (ascending risk) is not the review list's (descending).
    const many: Alert[] = Array.from({ length: 1005 }, (_, i) => {
      const key = { tenant: A, ruleId: 'bulk-read', userId: `dr-many-${i}`, day: '2026-03-09' };
      return {
        ...a3,
        ...key,
        alertId: alertId(key),
        riskScore: Math.floor(i / 10),
        evidence: [{ source: 'ehr', eventId: `e-many-${i}`, occurredAt: T0 - DAY }],
      };
    });
    await h.detection.upsertAlerts(many);
    const ids = many.map((a) => a.alertId);
    const c = await h.openCase({ ...OPEN_BODY, alertIds: ids.slice(0, 1000) });
    const linked = await h.post(`${h.caseUrl(c.caseId)}/alerts`, {
      alertIds: [...ids.slice(1000), a1.alertId],
      reason: 'Same pattern on more days.',
    });
    expect(linked.statusCode).toBe(200);
    const afterLink = linked.json<CaseDetail>();
    expect(afterLink.alerts.map((a) => a.alertId)).toEqual([...ids, a1.alertId]);
    // The escalations just stored show in the answer.
    expect(afterLink.alerts.every((a) => a.status === 'escalated')).toBe(true);
    await h.detection.decide([
      {
        tenant: A,
        alertId: ids[1002]!,
        decision: 'false_positive',
        reason: 'A scheduled export.',
        decidedBy: 'priya',
        decidedAt: T0 + DAY,
      },
    ]);
    const res = await h.get(h.caseUrl(c.caseId));
    expect(res.statusCode).toBe(200);
    const detail = res.json<CaseDetail>();
    expect(detail.alerts.map((a) => a.alertId)).toEqual([...ids, a1.alertId]);
    expect(detail.alerts.map((a) => a.riskScore)).toEqual([...many.map((a) => a.riskScore), a1.riskScore]);
    expect(detail.alerts.filter((a) => a.status !== 'escalated').map((a) => [a.alertId, a.status])).toEqual([
      [ids[1002], 'false_positive'],
    ]);
  });

  it('503 and nothing disclosed when the ledger does not acknowledge', async () => {
    const c = await h.openCase();
    h.state.ledgerDown = true;
    const res = await h.get(h.caseUrl(c.caseId));
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('MRN-');
    expect(res.body).not.toContain(OPEN_BODY.title);
  });

  it('404 for an unknown case, another tenant`s case, or through another tenant; 400 for a malformed id', async () => {
    const c = await h.openCase();
    const other = '00000000-0000-4000-8000-000000000000';
    expect((await h.get(h.caseUrl(other))).statusCode).toBe(404);
    const viaB = await h.get(h.caseUrl(c.caseId, B));
    expect(viaB.statusCode).toBe(404);
    expect(viaB.body).not.toContain(OPEN_BODY.title);
    const list = await h.get(`/api/tenants/${B}/cases`);
    expect(list.json()).toEqual({ items: [] });
    const bad = await h.get(h.caseUrl('not-a-uuid'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('params.caseId');
    expect((await h.get(h.caseUrl(c.caseId), 'auditor')).statusCode).toBe(403);
  });
});

describe('list', () => {
  it('newest first with counts and clocks, filtered by status; 400 for an unknown status', async () => {
    h.state.now = T0 + 30 * DAY;
    const c = await h.openCase({ ...OPEN_BODY, title: 'The newest case' });
    const res = await h.get(`/api/tenants/${A}/cases?status=open,investigating`, 'investigator');
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: CaseSummary[] }>().items;
    expect(items[0]).toEqual({
      caseId: c.caseId,
      title: 'The newest case',
      status: 'open',
      openedAt: T0 + 30 * DAY,
      openedBy: 'priya',
      updatedAt: T0 + 30 * DAY,
      alertCount: 2,
      discoveredOn: '2026-04-09',
      breachClock: c.breachClock,
    });
    expect(items.every((i) => i.status !== 'closed')).toBe(true);
    expect(items.map((i) => i.openedAt)).toEqual([...items.map((i) => i.openedAt)].sort((x, y) => y - x));
    expect(res.body).not.toContain('MRN-');
    const bad = await h.get(`/api/tenants/${A}/cases?status=archived`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('query.status');
    expect((await h.get(`/api/tenants/${A}/cases`, 'auditor')).statusCode).toBe(403);
  });
});
