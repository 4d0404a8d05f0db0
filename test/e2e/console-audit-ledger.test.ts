import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusError, createEventPublisher, ensureTopic } from '@phi-audit/bus-kafka';
import {
  CONSOLE_NO_PATIENT,
  createConsoleAuditTrail,
  isConsoleAuditError,
  type ConsoleAction,
} from '@phi-audit/console-audit';
import { createEmbeddedLedger, isEmbeddedError } from '@phi-audit/embedded';
import { generateNoteKey } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, ledgerFileIn } from '@phi-audit/store-sqlite';
import { runCli } from '../harness/processes.js';
import { kafkaBrokerList, uniqueName } from '../support/services.js';

// Issue 6: console actions are appended to the ledger as access events of the console itself,
// through the same publisher as ingest, before anything is disclosed; `verify` passes with them
// in the log, and a patient's access report shows the console user's look-up.
const TENANT = 'clinic-a';
const logger = pino({ level: 'silent' });
const ALERT = 'f'.repeat(64);
const CASE = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const user = { username: 'priya', role: 'privacy_officer' };

function ehrEvent(i: number): AccessEvent {
  return {
    eventId: `ehr-${i}`,
    tenant: TENANT,
    occurredAt: Date.now() - 60_000,
    receivedAt: Date.now(),
    source: { system: 'ehr' },
    actor: { userId: `dr-${i % 3}`, role: 'physician' },
    patient: { id: `MRN-${i % 4}` },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
  };
}

const ACTIONS: ConsoleAction[] = [
  { kind: 'view_alert', tenant: TENANT, user, alertId: ALERT, patientId: 'MRN-1', evidenceCount: 3 },
  { kind: 'patient_access_report', tenant: TENANT, user, patientId: 'MRN-1', from: 0, to: Date.now(), resultCount: 5 },
  {
    kind: 'search',
    tenant: TENANT,
    user,
    filters: { userId: 'dr-0' },
    patientIds: ['MRN-0', 'MRN-2'],
    resultCount: 6,
  },
  { kind: 'view_user_timeline', tenant: TENANT, user, subjectUserId: 'dr-1' },
  { kind: 'export_evidence', tenant: TENANT, user, eventCount: 3, patientId: 'MRN-1' },
  { kind: 'decide', tenant: TENANT, user, decision: 'appropriate', alerts: [{ alertId: ALERT, patientId: 'MRN-1' }] },
  { kind: 'case_update', tenant: TENANT, user, caseId: CASE, change: 'opened', patientIds: ['MRN-1'] },
  { kind: 'view_case', tenant: TENANT, user, caseId: CASE, patientIds: ['MRN-1', 'MRN-3'], alertCount: 2 },
  { kind: 'case_update', tenant: TENANT, user, caseId: CASE, change: 'assessment', patientIds: ['MRN-1'] },
];

describe('console audit trail on the embedded (SQLite) ledger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phi-console-audit-'));
  const file = ledgerFileIn(dir);
  const noteKey = generateNoteKey('test/phi-audit-console');
  const consoleIds: string[] = [];

  beforeAll(async () => {
    // Migrates the file, as `phi-audit start` does before the writer thread opens it.
    await createSqliteLedgerStore({ file, logger }).close();
    const ledger = createEmbeddedLedger({
      file,
      logger,
      checkpoints: {
        signerKey: noteKey.signerKey,
        everyRecords: 5,
        intervalMs: 3_600_000,
        exportDir: join(dir, 'checkpoints'),
      },
    });
    const trail = createConsoleAuditTrail({
      publish: (events) => ledger.publish(events),
      newId: () => {
        const id = randomUUID();
        consoleIds.push(id);
        return id;
      },
    });
    try {
      // Ingested events and console actions interleave in one log, through one publish path.
      await ledger.publish([0, 1, 2, 3].map(ehrEvent));
      for (const [i, action] of ACTIONS.entries()) {
        await trail.record(action);
        await ledger.publish([ehrEvent(10 + i)]);
      }
    } finally {
      // Signs the final checkpoint at the full size.
      await ledger.close();
    }
    // Audit before disclose: a ledger that no longer acknowledges makes record() refuse.
    const refused = await trail.record(ACTIONS[0]!).catch((e: unknown) => e);
    expect(isConsoleAuditError(refused, 'CONSOLE_AUDIT_UNAVAILABLE')).toBe(true);
    expect(isEmbeddedError((refused as Error).cause, 'EMBEDDED_CLOSED')).toBe(true);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores every console event once, sealed and byte-identical to what was recorded', async () => {
    const store = createSqliteLedgerStore({ file, logger });
    try {
      // 1 + 1 + 2 + 1 (no patient) + 1 + 1 + 1 + 2 + 1; the refused record() added none.
      expect(consoleIds).toHaveLength(12);
      const records = await store.recordsByEventId(TENANT, consoleIds.slice(0, 11));
      expect(records).toHaveLength(11);
      const events = records.map((r) => JSON.parse(r.eventJson) as AccessEvent);
      expect(new Set(records.map((r) => r.origin))).toEqual(new Set([embeddedOrigin(TENANT)]));
      expect(events.every((e) => e.source.system === 'phi-audit-console')).toBe(true);
      expect(events.every((e) => e.actor.userId === 'console:priya')).toBe(true);
      expect(events.map((e) => e.patient?.id).sort()).toEqual(
        [
          'MRN-0',
          'MRN-1',
          'MRN-1',
          'MRN-1',
          'MRN-1',
          'MRN-1',
          'MRN-1',
          'MRN-1',
          'MRN-2',
          'MRN-3',
          CONSOLE_NO_PATIENT,
        ].sort(),
      );
      expect((await store.recordsByEventId(TENANT, [consoleIds[11]!])).length).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("shows the console user's look-ups in the patient's access report", async () => {
    const store = createSqliteLedgerStore({ file, logger });
    try {
      const rows = await store.accessesByPatient({ tenant: TENANT, patientId: 'MRN-1', limit: 100 });
      const console = rows.filter((r) => r.userId === 'console:priya');
      expect(console.map((r) => `${r.action} ${r.resourceType}`).sort()).toEqual([
        'create phi-audit.case',
        'export phi-audit.evidence-bundle',
        'query phi-audit.patient-access-report',
        'update phi-audit.alert',
        'update phi-audit.case',
        'view phi-audit.alert',
        'view phi-audit.case',
      ]);
      expect(console.every((r) => r.userDepartment === 'privacy-office' && r.userRole === 'privacy_officer')).toBe(
        true,
      );
      // The EHR's own accesses are still there beside them.
      expect(rows.some((r) => r.sourceSystem === 'ehr')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('passes `phi-audit verify --data` with the console events in the log', async () => {
    const result = await runCli(['verify', '--data', dir, '--key', noteKey.verifierKey], {
      PHI_AUDIT_VERIFIER_KEYS: '',
    });
    expect(result.code, result.output).toBe(0);
    // 4 + 9 EHR events and 11 console events.
    expect(result.output).toMatch(new RegExp(`${embeddedOrigin(TENANT)}  24 records  .*OK`));
  });

  it('fails verify when a console event is altered afterwards (the console is audited like the EHR)', async () => {
    const copy = join(dir, '..', `${dir.split('/').pop()}-tampered`);
    cpSync(dir, copy, { recursive: true });
    try {
      const db = new Database(ledgerFileIn(copy));
      const row = db
        .prepare<[string], { idx: number; event_json: string }>(
          'SELECT idx, event_json FROM access_log WHERE event_id = ?',
        )
        .get(consoleIds[0]!)!;
      // Hide who looked: rewrite the console user as someone else.
      db.prepare('UPDATE access_log SET event_json = ? WHERE event_id = ?').run(
        row.event_json.replace('console:priya', 'console:nobody'),
        consoleIds[0]!,
      );
      db.close();
      const result = await runCli(['verify', '--data', copy, '--key', noteKey.verifierKey], {
        PHI_AUDIT_VERIFIER_KEYS: '',
      });
      expect(result.code, result.output).toBe(1);
      expect(result.output).toContain(`FAILED at index ${row.idx}`);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('console audit trail on the Kafka publisher (cluster mode)', () => {
  const brokers = kafkaBrokerList();
  const topic = uniqueName('console_audit');
  const kafka = new Kafka({ clientId: 'console-audit-test', brokers, logLevel: logLevel.NOTHING });
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  beforeAll(async () => {
    await ensureTopic({ brokers, topic, partitions: 1 });
  });

  async function highWatermark(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  it('resolves after Kafka acked, and refuses with CONSOLE_AUDIT_UNAVAILABLE once the publisher fails', async () => {
    const publisher = createEventPublisher({ brokers, topic, clientId: 'console-audit-test', logger: quiet });
    const trail = createConsoleAuditTrail({ publish: (events) => publisher.publish(events) });
    try {
      await trail.record(ACTIONS[2]!);
      // Acknowledged means on the topic: one message per patient the search disclosed.
      expect(await highWatermark()).toBe(2);
    } finally {
      await publisher.close();
    }
    const refused = await trail.record(ACTIONS[0]!).catch((e: unknown) => e);
    expect(isConsoleAuditError(refused, 'CONSOLE_AUDIT_UNAVAILABLE')).toBe(true);
    expect((refused as Error).cause).toBeInstanceOf(BusError);
    expect((refused as { statusCode: number }).statusCode).toBe(503);
    expect(await highWatermark()).toBe(2);
  });
});
