import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertId, type Alert } from '@phi-audit/rules';
import { createSqliteDetectionStore, detectionFileIn, type SqliteDetectionStore } from '@phi-audit/store-sqlite';
import { describeAlertReviewConformance, type AlertReviewStoreHarness } from './alert-review-conformance.js';

const harness: AlertReviewStoreHarness = {
  open() {
    const dir = mkdtempSync(join(tmpdir(), 'phi-audit-review-'));
    const store = createSqliteDetectionStore({ file: detectionFileIn(dir) });
    return Promise.resolve({
      store,
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
};

describeAlertReviewConformance('SQLite', harness);

describe('SQLite alert review: the file', () => {
  let dir: string;
  let file: string;
  let store: SqliteDetectionStore;
  let raw: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-audit-review-'));
    file = detectionFileIn(dir);
    store = createSqliteDetectionStore({ file });
    raw = new Database(file);
  });
  afterEach(async () => {
    raw.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const key = { tenant: 'clinic-a', ruleId: 'vip', userId: 'u1', patientId: 'p1', day: '2026-03-10' };
  const alert: Alert = {
    alertId: alertId(key),
    ...key,
    severity: 'high',
    riskScore: 80,
    explanation: 'A user opened the record of a VIP patient.',
    evidence: [{ source: 'ehr', eventId: 'e1', occurredAt: 1_000 }],
    truncated: false,
    firstEventAt: 1_000,
    lastEventAt: 1_000,
  };
  const decision = {
    tenant: 'clinic-a',
    alertId: alert.alertId,
    decision: 'escalated' as const,
    reason: 'Looks like snooping.',
    decidedBy: 'officer',
    decidedAt: 5,
  };

  it('stores decisions as numbered rows of alert_decisions (migration 2), appended per alert', async () => {
    await store.upsertAlerts([alert]);
    await store.decide([decision, { ...decision, decision: 'appropriate', decidedAt: 4 }]);
    expect(raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1 },
      { version: 2 },
    ]);
    expect(raw.prepare('SELECT seq, decision, decided_at, case_id FROM alert_decisions ORDER BY seq').all()).toEqual([
      { seq: 1, decision: 'escalated', decided_at: 5, case_id: '' },
      { seq: 2, decision: 'appropriate', decided_at: 4, case_id: '' },
    ]);
  });

  it('a tampered decision fails the reads with STORE_CORRUPT_DATA', async () => {
    await store.upsertAlerts([alert]);
    await store.decide([decision]);
    raw.prepare("UPDATE alert_decisions SET decision = 'ignored'").run();
    await expect(store.decisions('clinic-a', alert.alertId)).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
    await expect(store.reviewList({ tenant: 'clinic-a' })).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
  });
});
