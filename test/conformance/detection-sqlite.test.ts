import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertId, type Alert } from '@phi-audit/rules';
import { createSqliteDetectionStore, detectionFileIn, type SqliteDetectionStore } from '@phi-audit/store-sqlite';
import { describeAlertReviewConformance, type AlertReviewStoreHarness } from './alert-review-conformance.js';
import { describeCaseStoreConformance, type CaseStoreHarness } from './case-store-conformance.js';
import { describeDetectionStoreConformance, type DetectionStoreHarness } from './detection-store-conformance.js';

const harness = {
  keepsCursors: true,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'phi-audit-detection-'));
    const file = detectionFileIn(dir);
    let store: SqliteDetectionStore = createSqliteDetectionStore({ file });
    return Promise.resolve({
      store,
      cursors: store,
      async reopen() {
        await store.close();
        store = createSqliteDetectionStore({ file });
        return { store, cursors: store };
      },
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
} satisfies DetectionStoreHarness & AlertReviewStoreHarness;

describeDetectionStoreConformance('SQLite', harness);
// The same store class keeps the alert review (decisions) in the same file.
describeAlertReviewConformance('SQLite', harness);
// And the cases, with a raw second connection standing in for an attacker with the file.
describeCaseStoreConformance('SQLite', {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'phi-audit-cases-'));
    const file = detectionFileIn(dir);
    const store = createSqliteDetectionStore({ file });
    const raw = new Database(file);
    return Promise.resolve({
      store,
      async tamperCaseBody(tenant, caseId, body) {
        raw.prepare('UPDATE case_events SET body = ? WHERE tenant = ? AND case_id = ?').run(body, tenant, caseId);
        return Promise.resolve();
      },
      async close() {
        raw.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
} satisfies CaseStoreHarness);

describe('SQLite detection store: the file and tampering', () => {
  let dir: string;
  let file: string;
  let store: SqliteDetectionStore;
  let raw: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-audit-detection-'));
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
  const patient = {
    id: 'p1',
    givenName: 'Ana',
    familyName: 'Diaz',
    birthDate: '1980-02-03',
    vip: false,
    confidential: false,
  };

  const decision = {
    tenant: 'clinic-a',
    alertId: alert.alertId,
    decision: 'escalated' as const,
    reason: 'Looks like snooping.',
    decidedBy: 'officer',
    decidedAt: 5,
  };

  it('is detection.sqlite, mode 0600, WAL, synchronous FULL, busy timeout 5 s', () => {
    expect(file.endsWith('detection.sqlite')).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(store.pragmas()).toEqual({ journalMode: 'wal', synchronous: 2, busyTimeoutMs: 5_000 });
    expect(raw.prepare('SELECT version FROM schema_migrations').all()).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
    ]);
  });

  it('a tampered reference record fails the read with STORE_CORRUPT_DATA', async () => {
    await store.putReference('clinic-a', 'patients', [patient], { source: 'test', loadedAt: 1 });
    raw.prepare("UPDATE reference_records SET record_json = replace(record_json, '1980-02-03', '1980-02-30')").run();
    await expect(store.referenceData('clinic-a')).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
    raw.prepare(`UPDATE reference_records SET record_json = replace(record_json, '"p1"', '"p2"')`).run();
    raw.prepare("UPDATE reference_records SET record_json = replace(record_json, '1980-02-30', '1980-02-03')").run();
    // Valid again, but no longer the record its key says it is.
    await expect(store.referenceData('clinic-a')).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
  });

  it('a tampered alert fails reads and upserts with STORE_CORRUPT_DATA', async () => {
    await store.upsertAlerts([alert]);
    raw.prepare('UPDATE alerts SET risk_score = 10').run();
    await expect(store.alerts({ tenant: 'clinic-a' })).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
    raw.prepare('UPDATE alerts SET risk_score = 80').run();
    expect(await store.alerts({ tenant: 'clinic-a' })).toEqual([alert]);
    raw.prepare(`UPDATE alerts SET alert_json = replace(alert_json, '"u1"', '"u2"')`).run();
    await expect(store.alert('clinic-a', alert.alertId)).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
    await expect(store.upsertAlerts([alert])).rejects.toMatchObject({ code: 'STORE_CORRUPT_DATA' });
  });

  it('stores decisions as numbered rows of alert_decisions (migration 2), appended per alert', async () => {
    await store.upsertAlerts([alert]);
    await store.decide([decision, { ...decision, decision: 'appropriate', decidedAt: 4 }]);
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

  it('two connections (the reference API and the detector) write the same file', async () => {
    const second = createSqliteDetectionStore({ file });
    try {
      await Promise.all([
        store.putReference('clinic-a', 'patients', [patient], { source: 'api', loadedAt: 1 }),
        second.putReference('clinic-a', 'patients', [{ ...patient, id: 'p2' }], { source: 'api', loadedAt: 2 }),
        second.upsertAlerts([alert]),
      ]);
      expect((await store.referenceLoads('clinic-a')).map((l) => l.version)).toEqual([1, 2]);
      expect(await store.alert('clinic-a', alert.alertId)).toEqual(alert);
    } finally {
      await second.close();
    }
  });

  it('refuses a ledger database and reports STORE_SCHEMA_TOO_NEW rather than mixing schemas', async () => {
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (99, 'future', 0)").run();
    expect(() => createSqliteDetectionStore({ file })).toThrow(
      expect.objectContaining({ code: 'STORE_SCHEMA_TOO_NEW' }),
    );
  });
});
