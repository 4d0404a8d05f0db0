import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  alertId,
  openAgeBin,
  type Alert,
  type AlertDecision,
  type AlertReviewStore,
  type AlertStatus,
  type DetectionStore,
  type Severity,
} from '@phi-audit/rules';

const DAY = 86_400_000;

/** One opened store under test: a detection store that also reviews alerts. */
export interface OpenedAlertReviewStore {
  store: DetectionStore & AlertReviewStore;
  /** Closes the store and releases what open() created. */
  close(): Promise<void>;
}

export interface AlertReviewStoreHarness {
  /** Opens a fresh, empty store. */
  open(): Promise<OpenedAlertReviewStore>;
}

const A = 'clinic-a';
const B = 'clinic-b';
const T0 = 1_773_200_000_000;

interface Spec {
  tenant?: string;
  ruleId?: string;
  userId?: string;
  patientId?: string;
  day?: string;
  severity?: Severity;
  riskScore?: number;
  firstEventAt?: number;
}

function makeAlert(spec: Spec = {}): Alert {
  const key = {
    tenant: spec.tenant ?? A,
    ruleId: spec.ruleId ?? 'after-hours',
    userId: spec.userId ?? 'u1',
    patientId: spec.patientId ?? 'p1',
    day: spec.day ?? '2026-03-10',
  };
  const at = spec.firstEventAt ?? 1_773_140_000_000;
  return {
    alertId: alertId(key),
    ...key,
    severity: spec.severity ?? 'medium',
    riskScore: spec.riskScore ?? 50,
    explanation: 'A user opened a record outside their shift.',
    evidence: [{ source: 'ehr', eventId: `e-${key.userId}-${key.patientId}-${key.day}`, occurredAt: at }],
    truncated: false,
    firstEventAt: at,
    lastEventAt: at,
  };
}

function decisionOf(alert: Alert, over: Partial<AlertDecision> = {}): AlertDecision {
  return {
    tenant: alert.tenant,
    alertId: alert.alertId,
    decision: 'appropriate',
    reason: 'Covering for a colleague on the ward.',
    decidedBy: 'privacy.officer',
    decidedAt: T0,
    ...over,
  };
}

const idsOf = (items: readonly { alert: Alert }[]) => items.map((i) => i.alert.alertId);
const byRisk = (x: Alert, y: Alert) =>
  y.riskScore - x.riskScore || (x.day < y.day ? 1 : x.day > y.day ? -1 : 0) || (x.alertId < y.alertId ? -1 : 1);
const byDay = (x: Alert, y: Alert) =>
  (x.day < y.day ? 1 : x.day > y.day ? -1 : 0) || y.riskScore - x.riskScore || (x.alertId < y.alertId ? -1 : 1);

/**
 * The behaviour every AlertReviewStore adapter must share (SQLite and ClickHouse run the same
 * tests): append-only decisions with a required reason, status = latest decision (by decidedAt,
 * then the order stored), all-or-nothing batches that only name stored alerts of their tenant,
 * the review list's filters, order, paging and total, tenant isolation and the summary.
 */
export function describeAlertReviewConformance(name: string, harness: AlertReviewStoreHarness): void {
  describe(`AlertReviewStore conformance: ${name}`, () => {
    let h: OpenedAlertReviewStore;
    beforeEach(async () => {
      h = await harness.open();
    });
    afterEach(async () => {
      await h?.close();
    });

    it('a new alert is open; a decision changes its status and is returned as the latest decision', async () => {
      const { store } = h;
      const a = makeAlert();
      await store.upsertAlerts([a]);
      expect(await store.reviewList({ tenant: A })).toEqual({ total: 1, items: [{ alert: a, status: 'open' }] });
      const d = decisionOf(a, { decision: 'escalated', caseId: 'case-7' });
      await store.decide([d]);
      expect(await store.reviewList({ tenant: A })).toEqual({
        total: 1,
        items: [{ alert: a, status: 'escalated', decision: d }],
      });
      expect(await store.decisions(A, a.alertId)).toEqual([d]);
    });

    it('history is kept oldest first; the latest decidedAt wins, ties go to the one stored last', async () => {
      const { store } = h;
      const a = makeAlert();
      await store.upsertAlerts([a]);
      const d1 = decisionOf(a, { decision: 'escalated', decidedAt: T0 });
      const d2 = decisionOf(a, { decision: 'false_positive', decidedAt: T0 + 10, reason: 'Second look.' });
      const d3 = decisionOf(a, { decision: 'appropriate', decidedAt: T0 + 10, reason: 'Third look.' });
      await store.decide([d1]);
      await store.decide([d2, d3]);
      expect(await store.decisions(A, a.alertId)).toEqual([d1, d2, d3]);
      expect((await store.reviewList({ tenant: A })).items[0]).toMatchObject({ status: 'appropriate', decision: d3 });
      // A decision stored later but dated earlier joins the history at its time and does not win.
      const late = decisionOf(a, { decision: 'escalated', decidedAt: T0 + 5, reason: 'Entered late.' });
      await store.decide([late]);
      expect(await store.decisions(A, a.alertId)).toEqual([d1, late, d2, d3]);
      expect((await store.reviewList({ tenant: A })).items[0]?.status).toBe('appropriate');
      const newest = decisionOf(a, { decision: 'escalated', decidedAt: T0 + 20, reason: 'Reopened.' });
      await store.decide([newest]);
      expect((await store.reviewList({ tenant: A })).items[0]).toMatchObject({ status: 'escalated', decision: newest });
    });

    it('a decision on an unknown alert or another tenant’s alert is STORE_UNKNOWN_ALERT and nothing of the batch is stored', async () => {
      const { store } = h;
      const a = makeAlert();
      const b = makeAlert({ tenant: B });
      await store.upsertAlerts([a, b]);
      const unknown = makeAlert({ userId: 'nobody' });
      await expect(store.decide([decisionOf(a), decisionOf(unknown)])).rejects.toMatchObject({
        code: 'STORE_UNKNOWN_ALERT',
      });
      // B's alert id under tenant A.
      await expect(store.decide([decisionOf(a), { ...decisionOf(b), tenant: A }])).rejects.toMatchObject({
        code: 'STORE_UNKNOWN_ALERT',
      });
      expect(await store.decisions(A, a.alertId)).toEqual([]);
      expect(await store.decisions(A, b.alertId)).toEqual([]);
      expect(await store.decisions(B, b.alertId)).toEqual([]);
      expect((await store.reviewList({ tenant: A })).items.map((i) => i.status)).toEqual(['open']);
      await store.decide([]);
      expect(await store.decisions(A, a.alertId)).toEqual([]);
    });

    it('a reason is required; invalid decisions are STORE_INVALID_VALUE naming the field, never the reason', async () => {
      const { store } = h;
      const a = makeAlert();
      await store.upsertAlerts([a]);
      for (const reason of ['', '  ', ' ab ', 'x'.repeat(4001)]) {
        const err: unknown = await store.decide([decisionOf(a), decisionOf(a, { reason })]).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'STORE_INVALID_VALUE' });
        expect((err as Error).message).toContain('decision 1');
        expect((err as Error).message).toContain('reason');
      }
      const { reason: _omitted, ...noReason } = decisionOf(a);
      await expect(store.decide([noReason as AlertDecision])).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      const secret = 'Patient Jane Roe, MRN 12345';
      const bad = { ...decisionOf(a, { reason: secret }), decision: 'maybe' } as unknown as AlertDecision;
      const err: unknown = await store.decide([bad]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_INVALID_VALUE' });
      expect((err as Error).message).toContain('decision');
      expect((err as Error).message).not.toContain('Jane');
      await expect(store.decide([decisionOf(a, { decidedBy: '' })])).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      await expect(store.decide([decisionOf(a, { reason: 'lone \ud800 surrogate' })])).rejects.toMatchObject({
        code: 'STORE_INVALID_VALUE',
      });
      expect(await store.decisions(A, a.alertId)).toEqual([]);
    });

    it('reasons with quotes, backslashes, newlines, NUL and unicode are stored verbatim', async () => {
      const { store } = h;
      const a = makeAlert();
      await store.upsertAlerts([a]);
      const reasons = [
        `O'Neil said "fine" \\ {x:String} ; DROP TABLE alerts; --`,
        'line 1\nline 2\r\n\ttabbed \u0000 nul',
        'Überprüft — 患者 確認済み 😀 \u2028 end',
      ];
      await store.decide(reasons.map((reason, i) => decisionOf(a, { reason, decidedAt: T0 + i })));
      expect((await store.decisions(A, a.alertId)).map((d) => d.reason)).toEqual(reasons);
      expect((await store.reviewList({ tenant: A })).items[0]?.decision?.reason).toBe(reasons[2]);
    });

    describe('with a set of alerts', () => {
      // Risks and days chosen so the two orders differ.
      const alerts = [
        makeAlert({ userId: 'u1', day: '2026-03-10', riskScore: 90, severity: 'critical', ruleId: 'vip' }),
        makeAlert({ userId: 'u2', day: '2026-03-12', riskScore: 40, severity: 'medium' }),
        makeAlert({ userId: 'u3', day: '2026-03-11', riskScore: 70, severity: 'high', ruleId: 'vip' }),
        makeAlert({ userId: 'u4', day: '2026-03-12', riskScore: 70, severity: 'high', patientId: 'p2' }),
        makeAlert({ userId: 'u5', day: '2026-03-09', riskScore: 10, severity: 'low', firstEventAt: 1_773_000_000_000 }),
      ];
      const [a1, a2, a3, a4, a5] = alerts as [Alert, Alert, Alert, Alert, Alert];
      const statusesOf = async (statuses: AlertStatus[]) =>
        idsOf((await h.store.reviewList({ tenant: A, statuses })).items).sort();
      const sortedIds = (list: Alert[]) => list.map((a) => a.alertId).sort();

      beforeEach(async () => {
        await h.store.upsertAlerts(alerts);
        await h.store.decide([
          decisionOf(a1, { decision: 'escalated', caseId: 'case-1' }),
          decisionOf(a2, { decision: 'false_positive' }),
          decisionOf(a3, { decision: 'escalated', decidedAt: T0 }),
          decisionOf(a3, { decision: 'appropriate', decidedAt: T0 + 1 }),
        ]);
      });

      it('filters by status: open only, escalated only, several', async () => {
        expect(await statusesOf(['open'])).toEqual(sortedIds([a4, a5]));
        expect(await statusesOf(['escalated'])).toEqual(sortedIds([a1]));
        expect(await statusesOf(['appropriate'])).toEqual(sortedIds([a3]));
        expect(await statusesOf(['open', 'false_positive'])).toEqual(sortedIds([a2, a4, a5]));
        expect(await statusesOf(['escalated', 'appropriate', 'escalated'])).toEqual(sortedIds([a1, a3]));
        expect(await statusesOf(['open', 'appropriate', 'false_positive', 'escalated'])).toEqual(sortedIds(alerts));
        const all = await h.store.reviewList({ tenant: A });
        expect(all.total).toBe(5);
        expect(Object.fromEntries(all.items.map((i) => [i.alert.userId, i.status]))).toEqual({
          u1: 'escalated',
          u2: 'false_positive',
          u3: 'appropriate',
          u4: 'open',
          u5: 'open',
        });
      });

      it('sorts by risk (default) or by day, alertId breaking ties', async () => {
        expect(idsOf((await h.store.reviewList({ tenant: A })).items)).toEqual(
          [...alerts].sort(byRisk).map((a) => a.alertId),
        );
        expect(idsOf((await h.store.reviewList({ tenant: A, sort: 'day' })).items)).toEqual(
          [...alerts].sort(byDay).map((a) => a.alertId),
        );
        expect((await h.store.reviewList({ tenant: A, sort: 'day' })).items.map((i) => i.alert.userId)).toEqual([
          'u4',
          'u2',
          'u3',
          'u1',
          'u5',
        ]);
      });

      it('combines status with the rule, user, patient, severity and day filters', async () => {
        const list = (q: Omit<Parameters<AlertReviewStore['reviewList']>[0], 'tenant'>) =>
          h.store
            .reviewList({ tenant: A, ...q })
            .then((r) => ({ total: r.total, users: r.items.map((i) => i.alert.userId) }));
        expect(await list({ ruleId: 'vip' })).toEqual({ total: 2, users: ['u1', 'u3'] });
        expect(await list({ ruleId: 'vip', statuses: ['escalated'] })).toEqual({ total: 1, users: ['u1'] });
        expect(await list({ userId: 'u4', statuses: ['open'] })).toEqual({ total: 1, users: ['u4'] });
        expect(await list({ patientId: 'p2' })).toEqual({ total: 1, users: ['u4'] });
        expect(await list({ minSeverity: 'high', statuses: ['open'] })).toEqual({ total: 1, users: ['u4'] });
        expect(await list({ fromDay: '2026-03-10', toDay: '2026-03-11' })).toEqual({ total: 2, users: ['u1', 'u3'] });
        expect(await list({ fromDay: '2026-03-12', statuses: ['false_positive'] })).toEqual({
          total: 1,
          users: ['u2'],
        });
        expect(await list({ ruleId: 'no-such-rule' })).toEqual({ total: 0, users: [] });
      });

      it('pages with limit and offset; total ignores them', async () => {
        const all = idsOf((await h.store.reviewList({ tenant: A })).items);
        const pages: string[] = [];
        for (let offset = 0; offset < 6; offset += 2) {
          const page = await h.store.reviewList({ tenant: A, limit: 2, offset });
          expect(page.total).toBe(5);
          pages.push(...idsOf(page.items));
        }
        expect(pages).toEqual(all);
        expect(await h.store.reviewList({ tenant: A, offset: 5 })).toEqual({ total: 5, items: [] });
        const open = await h.store.reviewList({ tenant: A, statuses: ['open'], limit: 1, offset: 1 });
        expect(open.total).toBe(2);
        expect(idsOf(open.items)).toEqual([a5.alertId]);
      });

      it('keeps tenants apart', async () => {
        const b = makeAlert({ tenant: B, userId: 'u1' });
        await h.store.upsertAlerts([b]);
        expect(await h.store.reviewList({ tenant: B })).toEqual({ total: 1, items: [{ alert: b, status: 'open' }] });
        expect(await h.store.decisions(B, a1.alertId)).toEqual([]);
        expect((await h.store.reviewSummary(B)).open).toBe(1);
        await h.store.decide([decisionOf(b, { decision: 'escalated' })]);
        expect((await h.store.reviewList({ tenant: A, statuses: ['escalated'] })).total).toBe(1);
        expect((await h.store.reviewSummary(A)).open).toBe(2);
        expect(await h.store.reviewList({ tenant: 'clinic-none' })).toEqual({ total: 0, items: [] });
      });

      it('summarises open alerts by rule and severity with the oldest first event, and follows decisions', async () => {
        const none = { under1d: 0, d1to7: 0, d7to30: 0, over30: 0 };
        // Today (2026-11 or later) both first events (March 2026) are more than 30 days old.
        expect(await h.store.reviewSummary(A)).toEqual({
          open: 2,
          byRule: { 'after-hours': 2 },
          bySeverity: { high: 1, low: 1 },
          openByAge: { ...none, over30: 2 },
          oldestOpenFirstEventAt: 1_773_000_000_000,
        });
        // By age on a given day: a4 first seen at T, a5 about 1.6 days before it.
        const T = a4.firstEventAt;
        const ages = async (now: number) => (await h.store.reviewSummary(A, now)).openByAge;
        expect(await ages(T - 1_000)).toEqual({ ...none, under1d: 1, d1to7: 1 }); // a4 is in the future
        expect(await ages(T + 12 * 3_600_000)).toEqual({ ...none, under1d: 1, d1to7: 1 });
        expect(await ages(T + DAY)).toEqual({ ...none, d1to7: 2 }); // exactly one day old: 1–7 days
        expect(await ages(T + 10 * DAY)).toEqual({ ...none, d7to30: 2 });
        expect(await ages(T + 29 * DAY)).toEqual({ ...none, d7to30: 1, over30: 1 });
        expect(openAgeBin(a5.firstEventAt, T + 29 * DAY)).toBe('over30');
        await h.store.decide([decisionOf(a5, { decision: 'false_positive' })]);
        expect(await h.store.reviewSummary(A)).toEqual({
          open: 1,
          byRule: { 'after-hours': 1 },
          bySeverity: { high: 1 },
          openByAge: { ...none, over30: 1 },
          oldestOpenFirstEventAt: a4.firstEventAt,
        });
        await h.store.decide([decisionOf(a4, { decision: 'appropriate' })]);
        expect(await h.store.reviewSummary(A)).toEqual({ open: 0, byRule: {}, bySeverity: {}, openByAge: none });
      });

      it('alertIds: only the given alerts, with their status; unknown and other tenants’ ids left out', async () => {
        const b = makeAlert({ tenant: B, userId: 'u1' });
        await h.store.upsertAlerts([b]);
        const unknown = makeAlert({ userId: 'nobody' }).alertId;
        const only = await h.store.reviewList({
          tenant: A,
          alertIds: [a5.alertId, unknown, a1.alertId, b.alertId, a4.alertId, a1.alertId],
        });
        expect(only.total).toBe(3);
        // a1 (risk 90), a4 (70), a5 (10): the default risk order, not the order given.
        expect(only.items).toEqual([
          { alert: a1, status: 'escalated', decision: decisionOf(a1, { decision: 'escalated', caseId: 'case-1' }) },
          { alert: a4, status: 'open' },
          { alert: a5, status: 'open' },
        ]);
        const one = await h.store.reviewList({ tenant: A, alertIds: [a3.alertId] });
        expect(one).toEqual({
          total: 1,
          items: [{ alert: a3, status: 'appropriate', decision: decisionOf(a3, { decidedAt: T0 + 1 }) }],
        });
        expect(await h.store.reviewList({ tenant: A, alertIds: [b.alertId, unknown] })).toEqual({
          total: 0,
          items: [],
        });
        expect(await h.store.reviewList({ tenant: B, alertIds: [a1.alertId, b.alertId] })).toEqual({
          total: 1,
          items: [{ alert: b, status: 'open' }],
        });
        // Sorting and paging still apply within the given ids.
        const ids = alerts.map((a) => a.alertId);
        const page = await h.store.reviewList({ tenant: A, alertIds: ids, sort: 'day', limit: 2, offset: 1 });
        expect(page.total).toBe(5);
        expect(idsOf(page.items)).toEqual(
          [...alerts]
            .sort(byDay)
            .slice(1, 3)
            .map((a) => a.alertId),
        );
      });

      it('alertIds combine with the status and other filters', async () => {
        const ids = [a1, a2, a3, a5].map((a) => a.alertId);
        const list = (q: Omit<Parameters<AlertReviewStore['reviewList']>[0], 'tenant' | 'alertIds'>) =>
          h.store.reviewList({ tenant: A, alertIds: ids, ...q }).then((r) => ({
            total: r.total,
            users: r.items.map((i) => i.alert.userId),
          }));
        expect(await list({ statuses: ['open'] })).toEqual({ total: 1, users: ['u5'] });
        expect(await list({ statuses: ['open', 'escalated'] })).toEqual({ total: 2, users: ['u1', 'u5'] });
        expect(await list({ statuses: ['false_positive', 'appropriate'] })).toEqual({ total: 2, users: ['u3', 'u2'] });
        expect(await list({ ruleId: 'vip', statuses: ['appropriate'] })).toEqual({ total: 1, users: ['u3'] });
        expect(await list({ minSeverity: 'high' })).toEqual({ total: 2, users: ['u1', 'u3'] });
        // a4 is open but not among the ids.
        expect(await list({ patientId: 'p2' })).toEqual({ total: 0, users: [] });
      });

      it('refuses too many or malformed alertIds with STORE_INVALID_VALUE naming the field', async () => {
        const hex = (i: number) => i.toString(16).padStart(64, '0');
        for (const [alertIds, expected] of [
          [[], 'alertIds'],
          [Array.from({ length: 1001 }, (_, i) => hex(i)), 'alertIds'],
          [[a1.alertId, a1.alertId.toUpperCase()], 'alertIds.1'],
          [[a1.alertId.slice(1)], 'alertIds.0'],
          [[`${a1.alertId.slice(2)}' OR 1=1`], 'alertIds.0'],
          [[a1.alertId, 42], 'alertIds.1'],
        ] as const) {
          const err: unknown = await h.store
            .reviewList({ tenant: A, alertIds: alertIds as never })
            .catch((e: unknown) => e);
          expect(err, `${alertIds.length} ids`).toMatchObject({ code: 'STORE_INVALID_VALUE' });
          expect((err as Error).message).toContain(expected);
        }
        // Exactly the most allowed is accepted.
        const most = await h.store.reviewList({
          tenant: A,
          alertIds: [...Array.from({ length: 999 }, (_, i) => hex(i)), a2.alertId],
        });
        expect(most).toEqual({
          total: 1,
          items: [{ alert: a2, status: 'false_positive', decision: decisionOf(a2, { decision: 'false_positive' }) }],
        });
      });

      it('rejects a malformed query with STORE_INVALID_VALUE', async () => {
        for (const bad of [
          { limit: 0 },
          { limit: 1001 },
          { offset: -1 },
          { offset: 100_001 },
          { statuses: [] },
          { statuses: ['closed'] },
          { sort: 'patient' },
          { fromDay: '10/03/2026' },
          { minSeverity: 'severe' },
        ]) {
          await expect(h.store.reviewList({ tenant: A, ...bad } as never), JSON.stringify(bad)).rejects.toMatchObject({
            code: 'STORE_INVALID_VALUE',
          });
        }
        await expect(h.store.reviewList({ tenant: '' })).rejects.toMatchObject({ code: 'STORE_INVALID_VALUE' });
      });
    });

    it('pages 1,000 alerts correctly: every alert once, in order, total stable', async () => {
      const { store } = h;
      const many = Array.from({ length: 1000 }, (_, i) =>
        makeAlert({
          userId: `u${i}`,
          day: `2026-03-${String(1 + (i % 28)).padStart(2, '0')}`,
          riskScore: (i * 37) % 101,
          severity: 'medium',
        }),
      );
      await store.upsertAlerts(many);
      const escalated = many.filter((_, i) => i % 3 === 0);
      await store.decide(escalated.map((a) => decisionOf(a, { decision: 'escalated' })));
      const seen: string[] = [];
      for (let offset = 0; offset < 1000; offset += 150) {
        const page = await store.reviewList({ tenant: A, limit: 150, offset });
        expect(page.total).toBe(1000);
        seen.push(...idsOf(page.items));
      }
      expect(seen).toEqual([...many].sort(byRisk).map((a) => a.alertId));
      const full = await store.reviewList({ tenant: A, sort: 'day', limit: 1000 });
      expect(idsOf(full.items)).toEqual([...many].sort(byDay).map((a) => a.alertId));
      const esc = await store.reviewList({ tenant: A, statuses: ['escalated'], limit: 1000 });
      expect(esc.total).toBe(escalated.length);
      expect(idsOf(esc.items)).toEqual([...escalated].sort(byRisk).map((a) => a.alertId));
      expect(esc.items.every((i) => i.status === 'escalated' && i.decision?.decision === 'escalated')).toBe(true);
      const open = await store.reviewList({ tenant: A, statuses: ['open'], limit: 100, offset: 600 });
      expect(open.total).toBe(1000 - escalated.length);
      expect(open.items).toHaveLength(1000 - escalated.length - 600);
      expect((await store.reviewSummary(A)).open).toBe(1000 - escalated.length);
      // The most ids one query names, in any order: all of them, in the query's order.
      const byIds = await store.reviewList({
        tenant: A,
        alertIds: [...many].reverse().map((a) => a.alertId),
        limit: 1000,
      });
      expect(byIds.total).toBe(1000);
      expect(idsOf(byIds.items)).toEqual([...many].sort(byRisk).map((a) => a.alertId));
      expect(byIds.items.filter((i) => i.status === 'escalated')).toHaveLength(escalated.length);
    });
  });
}
