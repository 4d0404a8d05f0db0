import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { alertId, type Alert } from '@phi-audit/rules';
import { createClickHouseDetectionStore, createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';
import {
  adminClient,
  adminCommand,
  adminSelect,
  clickHouseUrl,
  dropDatabase,
  uniqueDatabase,
} from '../../packages/store-clickhouse/src/testing/clickhouse-test-database.js';
import { describeAlertReviewConformance, type AlertReviewStoreHarness } from './alert-review-conformance.js';

const url = clickHouseUrl();
let admin: ClickHouseClient | undefined;
const databases: string[] = [];

/** A fresh database with every migration applied (the ledger store's migrate creates the review table). */
async function freshDatabase(label: string): Promise<string> {
  const db = uniqueDatabase(label);
  databases.push(db);
  const ledger = createClickHouseLedgerStore({ url: url!, database: db });
  try {
    await ledger.migrate();
  } finally {
    await ledger.close();
  }
  return db;
}

beforeAll(() => {
  if (url !== undefined) admin = adminClient(url);
});
afterAll(async () => {
  if (admin === undefined) return;
  for (const db of databases) await dropDatabase(admin, db);
  await admin.close();
});

const harness: AlertReviewStoreHarness = {
  async open() {
    if (url === undefined) throw new Error('CLICKHOUSE_URL is not set');
    const store = createClickHouseDetectionStore({ url, database: await freshDatabase('review') });
    return { store, close: () => store.close() };
  },
};

describe.skipIf(url === undefined)('ClickHouse alert review (real server)', () => {
  describeAlertReviewConformance('ClickHouse', harness);

  describe('ClickHouse specifics: unmerged alert rows, retried inserts, racing writers', () => {
    const key = { tenant: 'clinic-a', ruleId: 'vip', userId: 'u1', patientId: 'p1', day: '2026-03-10' };
    const alertAt = (eventId: string, at: number, riskScore: number): Alert => ({
      alertId: alertId(key),
      ...key,
      severity: riskScore >= 70 ? 'high' : 'medium',
      riskScore,
      explanation: 'A user opened the record of a VIP patient.',
      evidence: [{ source: 'ehr', eventId, occurredAt: at }],
      truncated: false,
      firstEventAt: at,
      lastEventAt: at,
    });
    const decision = {
      tenant: 'clinic-a',
      alertId: alertId(key),
      decision: 'escalated' as const,
      reason: 'Looks like snooping.',
      decidedBy: 'officer',
      decidedAt: 5,
    };

    it('an alert with several unmerged revisions is one review item, before and after OPTIMIZE FINAL', async () => {
      const db = await freshDatabase('review_ch');
      const store = createClickHouseDetectionStore({ url: url!, database: db });
      try {
        await store.upsertAlerts([alertAt('e1', 1_000, 40)]);
        await store.upsertAlerts([alertAt('e2', 2_000, 80)]);
        const before = await store.reviewList({ tenant: 'clinic-a', minSeverity: 'high' });
        expect(before.total).toBe(1);
        expect(before.items.map((i) => i.alert.evidence.length)).toEqual([2]);
        expect((await store.reviewSummary('clinic-a')).bySeverity).toEqual({ high: 1 });
        await store.decide([decision]);
        await adminCommand(admin!, `OPTIMIZE TABLE ${db}.alerts FINAL`);
        const after = await store.reviewList({ tenant: 'clinic-a', statuses: ['escalated'] });
        expect(after).toEqual({ total: 1, items: [{ ...before.items[0], status: 'escalated', decision }] });
      } finally {
        await store.close();
      }
    });

    it('a retried insert (identical rows) is one history entry; two writers with one seq still give one latest', async () => {
      const db = await freshDatabase('review_race');
      const store = createClickHouseDetectionStore({ url: url!, database: db });
      try {
        await store.upsertAlerts([alertAt('e1', 1_000, 40)]);
        await store.decide([decision]);
        const [row] = await adminSelect<Record<string, unknown>>(admin!, `SELECT * FROM ${db}.alert_decisions`);
        await admin!.insert({ table: `${db}.alert_decisions`, values: [row!], format: 'JSONEachRow' });
        expect(await store.decisions('clinic-a', decision.alertId)).toEqual([decision]);
        // A second writer that read the same highest seq: same decided_at and seq, the nonce decides.
        const other = { ...row!, nonce: 1, decision: 'appropriate', reason: 'Covering a shift.' };
        const top = { ...row!, nonce: 2 ** 48, decision: 'false_positive', reason: 'Test patient.' };
        await admin!.insert({ table: `${db}.alert_decisions`, values: [other, top], format: 'JSONEachRow' });
        const list = await store.reviewList({ tenant: 'clinic-a' });
        expect(list.items.map((i) => i.status)).toEqual(['false_positive']);
        expect((await store.decisions('clinic-a', decision.alertId)).at(-1)?.decision).toBe('false_positive');
      } finally {
        await store.close();
      }
    });
  });
});
