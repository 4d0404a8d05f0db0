import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  a1,
  a2,
  a3,
  A,
  ASSESSMENT,
  B,
  b1,
  createCaseHarness,
  DAY,
  T0,
  type CaseHarness,
} from '../testing/case-route-harness.js';
import type { CaseDetail, CaseSummary } from './case-schemas.js';

// Issue 6 item 4 (cases): the changes of a case (notes, status, alerts, assessment, breach
// facts), against real SQLite stores (case-route-harness.ts).
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

describe('changes', () => {
  it('notes, status, linked alerts, assessment and breach facts, each recorded and answered', async () => {
    const c = await h.openCase();
    const url = h.caseUrl(c.caseId);
    h.state.now = T0 + DAY;
    const before = await h.consoleRows();
    const noted = await h.post(`${url}/notes`, { text: 'Spoke to the manager.' }, 'investigator');
    expect(noted.statusCode, noted.body).toBe(200);
    expect(noted.json<CaseDetail>().notes).toEqual([{ at: T0 + DAY, by: 'priya', text: 'Spoke to the manager.' }]);
    expect(h.summary(await h.recordedSince(before))).toEqual([
      ['update', 'phi-audit.case', 'MRN-1'],
      ['update', 'phi-audit.case', 'MRN-2'],
    ]);

    const status = await h.post(`${url}/status`, { status: 'investigating', reason: 'interviews booked' });
    // Same clock reading: the event is still placed after the note (1 ms later).
    expect(status.json<CaseDetail>()).toMatchObject({ status: 'investigating', updatedAt: T0 + DAY + 1 });

    const linked = await h.post(`${url}/alerts`, { alertIds: [a3.alertId, a1.alertId], reason: 'same user, bulk' });
    expect(linked.statusCode, linked.body).toBe(200);
    expect(linked.json<CaseDetail>().alertIds).toEqual([a1.alertId, a2.alertId, a3.alertId]);
    const last = (await h.detection.decisions(A, a3.alertId)).at(-1);
    expect(last).toMatchObject({ decision: 'escalated', caseId: c.caseId, reason: 'same user, bulk' });
    expect(linked.json<CaseDetail>().history.at(-1)).toMatchObject({ kind: 'alerts_linked', alertIds: [a3.alertId] });

    const assessed = await h.post(`${url}/assessment`, {
      ...ASSESSMENT,
      conclusion: 'low_probability_of_compromise',
    });
    expect(assessed.json<CaseDetail>().assessment).toMatchObject({ conclusion: 'low_probability_of_compromise' });
    expect(assessed.json<CaseDetail>().breachClock.status).toBe('not_a_breach');

    h.state.now = T0 + 2 * DAY;
    const assessedAgain = await h.post(`${url}/assessment`, ASSESSMENT);
    expect(assessedAgain.json<CaseDetail>().breachClock.status).toBe('running');

    const facts = await h.post(`${url}/breach-facts`, {
      discoveredOn: '2026-03-08',
      affectedIndividuals: 600,
      largestJurisdictionCount: 501,
      reason: 'counted the records',
    });
    expect(facts.statusCode, facts.body).toBe(200);
    const detail = facts.json<CaseDetail>();
    expect(detail.discoveredOn).toBe('2026-03-08');
    expect(detail.breachFacts).toMatchObject({
      affectedIndividuals: 600,
      largestJurisdictionCount: 501,
      by: 'priya',
    });
    expect(detail.breachClock).toMatchObject({
      today: '2026-03-12',
      individuals: { deadline: '2026-05-07', daysRemaining: 56 },
      hhs: { notice: 'contemporaneous', deadline: '2026-05-07' },
      media: { notice: 'required' },
    });
    expect(detail.history.map((e) => e.kind)).toEqual([
      'opened',
      'note',
      'status',
      'alerts_linked',
      'assessment',
      'assessment',
      'breach_facts',
    ]);

    const closed = await h.post(`${url}/status`, { status: 'closed', reason: 'notified' });
    expect(closed.json<CaseDetail>().status).toBe('closed');
    const list = (await h.get(`/api/tenants/${A}/cases?status=closed`)).json<{ items: CaseSummary[] }>();
    expect(list.items.map((i) => [i.caseId, i.alertCount, i.conclusion])).toEqual([[c.caseId, 3, 'breach']]);
  });

  it('refuses linking only alerts already linked (400) or another tenant`s (404)', async () => {
    const c = await h.openCase();
    const again = await h.post(`${h.caseUrl(c.caseId)}/alerts`, { alertIds: [a1.alertId], reason: 'again' });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.message).toContain('body.alertIds');
    const foreign = await h.post(`${h.caseUrl(c.caseId)}/alerts`, { alertIds: [b1.alertId], reason: 'theirs' });
    expect(foreign.statusCode).toBe(404);
    expect(await h.detection.decisions(B, b1.alertId)).toEqual([]);
  });

  it('404 for an unknown case or another tenant`s; 400 naming the field; 403 by role; 503 stores nothing', async () => {
    const c = await h.openCase();
    const unknown = h.caseUrl('00000000-0000-4000-8000-000000000000');
    const bodies: [string, object][] = [
      ['notes', { text: 'a note' }],
      ['status', { status: 'closed', reason: 'done' }],
      ['alerts', { alertIds: [a3.alertId], reason: 'more' }],
      ['assessment', ASSESSMENT],
      ['breach-facts', { discoveredOn: '2026-03-01', affectedIndividuals: 1, reason: 'counted' }],
    ];
    for (const [path, body] of bodies) {
      expect((await h.post(`${unknown}/${path}`, body)).statusCode, path).toBe(404);
      expect((await h.post(`${h.caseUrl(c.caseId, B)}/${path}`, body)).statusCode, path).toBe(404);
      expect((await h.post(`${h.caseUrl(c.caseId)}/${path}`, body, 'auditor')).statusCode, path).toBe(403);
      if (path !== 'notes') {
        expect((await h.post(`${h.caseUrl(c.caseId)}/${path}`, body, 'investigator')).statusCode, path).toBe(403);
      }
    }
    for (const [path, body, field] of [
      ['status', { status: 'archived', reason: 'x-x-x' }, 'body.status'],
      ['notes', { text: '  ' }, 'body.text'],
      [
        'breach-facts',
        { discoveredOn: '2026-03-01', affectedIndividuals: -1, reason: 'counted' },
        'body.affectedIndividuals',
      ],
      [
        'assessment',
        { ...ASSESSMENT, factors: { ...ASSESSMENT.factors, mitigation: undefined } },
        'body.factors.mitigation',
      ],
    ] as const) {
      const res = await h.post(`${h.caseUrl(c.caseId)}/${path}`, body);
      expect(res.statusCode, path).toBe(400);
      expect(res.json().error.message, path).toContain(field);
    }
    h.state.ledgerDown = true;
    expect((await h.post(`${h.caseUrl(c.caseId)}/notes`, { text: 'lost note' })).statusCode).toBe(503);
    h.state.ledgerDown = false;
    expect(await h.detection.caseEvents(A, c.caseId)).toHaveLength(1);
  });
});
