import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { alertId, type Alert } from '@phi-audit/rules';
import {
  createClickHouseDetectionStore,
  createClickHouseLedgerStore,
  type ClickHouseDetectionStore,
} from '@phi-audit/store-clickhouse';
import {
  adminClient,
  adminCommand,
  adminSelect,
  clickHouseUrl,
  dropDatabase,
  uniqueDatabase,
} from '../../packages/store-clickhouse/src/testing/clickhouse-test-database.js';
import { describeAlertReviewConformance, type AlertReviewStoreHarness } from './alert-review-conformance.js';
import { describeCaseStoreConformance, type CaseStoreHarness } from './case-store-conformance.js';
import { describeDetectionStoreConformance, type DetectionStoreHarness } from './detection-store-conformance.js';

const url = clickHouseUrl();
let admin: ClickHouseClient | undefined;
const databases: string[] = [];

/** A fresh database with every migration applied (the ledger store's migrate creates the detection tables). */
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

const harness = {
  keepsCursors: false,
  async open() {
    if (url === undefined) throw new Error('CLICKHOUSE_URL is not set');
    const database = await freshDatabase('detection');
    let store: ClickHouseDetectionStore = createClickHouseDetectionStore({ url, database });
    return {
      store,
      async reopen() {
        await store.close();
        store = createClickHouseDetectionStore({ url, database });
        return { store };
      },
      async close() {
        await store.close();
      },
    };
  },
} satisfies DetectionStoreHarness & AlertReviewStoreHarness;

const caseHarness = {
  async open() {
    if (url === undefined || admin === undefined) throw new Error('CLICKHOUSE_URL is not set');
    const database = await freshDatabase('cases');
    const store = createClickHouseDetectionStore({ url, database });
    return {
      store,
      // ALTER UPDATE is asynchronous: the attacker's row is a forged one beside the genuine rows.
      async tamperCaseBody(tenant: string, caseId: string, body: string) {
        await admin!.insert({
          table: `${database}.case_events`,
          values: [{ tenant, case_id: caseId, event_id: randomUUID(), at: 1, by: 'mallory', kind: 'note', body }],
          format: 'JSONEachRow',
        });
      },
      async close() {
        await store.close();
      },
    };
  },
} satisfies CaseStoreHarness;

describe.skipIf(url === undefined)('ClickHouse detection store (real server)', () => {
  describeDetectionStoreConformance('ClickHouse', harness);
  // The same store class keeps the alert review (decisions) in the same database.
  describeAlertReviewConformance('ClickHouse', harness);
  // And the cases (migration 5), same database.
  describeCaseStoreConformance('ClickHouse', caseHarness);

  describe('ClickHouse specifics: unmerged rows, half-done loads, tampering', () => {
    let db: string;
    let store: ClickHouseDetectionStore;
    beforeAll(async () => {
      db = await freshDatabase('detection_ch');
      store = createClickHouseDetectionStore({ url: url!, database: db });
    });
    afterAll(async () => {
      await store?.close();
    });

    const key = (tenant: string) => ({ tenant, ruleId: 'vip', userId: 'u1', patientId: 'p1', day: '2026-03-10' });
    const alertOf = (tenant: string, eventId: string, at: number, riskScore: number): Alert => ({
      alertId: alertId(key(tenant)),
      ...key(tenant),
      severity: riskScore >= 70 ? 'high' : 'medium',
      riskScore,
      explanation: 'A user opened the record of a VIP patient.',
      evidence: [{ source: 'ehr', eventId, occurredAt: at }],
      truncated: false,
      firstEventAt: at,
      lastEventAt: at,
    });
    const rowsOf = async (tenant: string) =>
      adminSelect<{ revision: string }>(
        admin!,
        `SELECT toString(revision) AS revision FROM ${db}.alerts WHERE tenant = '${tenant}' ORDER BY revision`,
      );

    it('each new state is a new revision; a repeat writes nothing; reads are the same before and after OPTIMIZE FINAL', async () => {
      const t = 'clinic-merge';
      await store.upsertAlerts([alertOf(t, 'e1', 1_000, 40)]);
      await store.upsertAlerts([alertOf(t, 'e2', 2_000, 80)]);
      await store.upsertAlerts([alertOf(t, 'e2', 2_000, 80)]);
      expect((await rowsOf(t)).map((r) => r.revision)).toEqual(['1', '2']);
      const before = await store.alert(t, alertId(key(t)));
      expect(before?.evidence.map((e) => e.eventId)).toEqual(['e1', 'e2']);
      expect(before?.riskScore).toBe(80);
      expect(await store.alerts({ tenant: t, minSeverity: 'high' })).toEqual([before]);
      await adminCommand(admin!, `OPTIMIZE TABLE ${db}.alerts FINAL`);
      expect((await rowsOf(t)).map((r) => r.revision)).toEqual(['2']);
      expect(await store.alert(t, alertId(key(t)))).toEqual(before);
      expect(await store.alerts({ tenant: t })).toEqual([before]);
    });

    it('a racing second writer: two rows of the same revision both count, and the next write folds both', async () => {
      const t = 'clinic-race';
      const a = alertOf(t, 'e1', 1_000, 40);
      const b = alertOf(t, 'e2', 2_000, 60);
      await store.upsertAlerts([a]);
      // A second writer that read "nothing stored" before the first wrote, so also wrote revision 1.
      await admin!.insert({
        table: `${db}.alerts`,
        values: [
          {
            tenant: t,
            alert_id: b.alertId,
            day: b.day,
            rule_id: b.ruleId,
            user_id: b.userId,
            patient_id: b.patientId,
            severity_rank: 1,
            risk_score: b.riskScore,
            first_event_at: b.firstEventAt,
            last_event_at: b.lastEventAt,
            alert_json: JSON.stringify(b),
            revision: 1,
            updated_at: 1,
          },
        ],
        format: 'JSONEachRow',
      });
      const both = await store.alert(t, a.alertId);
      expect(both?.evidence.map((e) => e.eventId)).toEqual(['e1', 'e2']);
      expect(both?.riskScore).toBe(60);
      expect(await store.alerts({ tenant: t })).toEqual([both]);
      await store.upsertAlerts([alertOf(t, 'e3', 3_000, 20)]);
      await adminCommand(admin!, `OPTIMIZE TABLE ${db}.alerts FINAL`);
      expect((await rowsOf(t)).map((r) => r.revision)).toEqual(['2']);
      expect((await store.alert(t, a.alertId))?.evidence.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    });

    it('records of a load whose load row was never written stay invisible, and their version is not reused', async () => {
      const t = 'clinic-crash';
      await store.putReference(t, 'patients', [patient('p1')], { source: 'api', loadedAt: 1 });
      // A crash after the records of version 2 were inserted, before its load row.
      await admin!.insert({
        table: `${db}.reference_records`,
        values: [
          { tenant: t, kind: 'patients', record_key: 'p9', version: 2, record_json: JSON.stringify(patient('p9')) },
        ],
        format: 'JSONEachRow',
      });
      expect(await store.referenceData(t)).toEqual({
        version: 1,
        data: { patients: [patient('p1')], workforce: [], relationships: [] },
      });
      expect((await store.putReference(t, 'patients', [patient('p2')], { source: 'api', loadedAt: 2 })).version).toBe(
        3,
      );
      expect((await store.referenceData(t)).data.patients.map((p) => p.id)).toEqual(['p1', 'p2']);
      expect((await store.referenceLoads(t)).map((l) => l.version)).toEqual([1, 3]);
    });

    it('a tampered alert or reference record fails the read with STORE_CORRUPT_DATA', async () => {
      const t = 'clinic-tamper';
      await store.upsertAlerts([alertOf(t, 'e1', 1_000, 40)]);
      await store.putReference(t, 'patients', [patient('p1')], { source: 'api', loadedAt: 1 });
      await admin!.insert({
        table: `${db}.alerts`,
        values: [
          {
            tenant: t,
            alert_id: alertId(key(t)),
            day: '2026-03-10',
            rule_id: 'vip',
            user_id: 'u1',
            patient_id: 'p1',
            severity_rank: 0,
            risk_score: 1,
            first_event_at: 1,
            last_event_at: 1,
            alert_json: JSON.stringify({ ...alertOf(t, 'e1', 1_000, 40), userId: 'u2' }),
            revision: 7,
            updated_at: 1,
          },
        ],
        format: 'JSONEachRow',
      });
      await expect(store.alert(t, alertId(key(t)))).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
      await expect(store.alerts({ tenant: t })).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
      await expect(store.upsertAlerts([alertOf(t, 'e1', 1_000, 40)])).rejects.toMatchObject({
        code: 'STORE_CORRUPT_DATA',
      });
      await admin!.insert({
        table: `${db}.reference_records`,
        values: [
          {
            tenant: t,
            kind: 'patients',
            record_key: 'p1',
            version: 1,
            record_json: JSON.stringify({ ...patient('p1'), id: 'p2' }),
          },
        ],
        format: 'JSONEachRow',
      });
      await expect(store.referenceData(t)).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
    });
  });

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

function patient(id: string) {
  return { id, givenName: 'Ana', familyName: 'Diaz', birthDate: '1980-02-03', vip: false, confidential: false };
}
