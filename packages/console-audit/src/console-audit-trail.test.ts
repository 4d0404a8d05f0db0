import { describe, expect, it } from 'vitest';
import { AccessEventSchema, isSealedAccessEvent, type AccessEvent } from '@phi-audit/schema';
import type { ConsoleAction } from './console-action.js';
import { createConsoleAuditTrail, DEFAULT_CONSOLE_SOURCE_SYSTEM } from './console-audit-trail.js';
import { CONSOLE_NO_PATIENT } from './console-events.js';
import { isConsoleAuditError } from './errors.js';

const NOW = 1_790_000_000_000;
const ALERT = 'a'.repeat(64);
const CASE = '6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';
const user = { username: 'priya', role: 'privacy_officer', ip: '10.1.2.3' };
const common = { tenant: 'clinic-a', user };

/** One action of every kind, each naming patient MRN-<kind> where it can. */
const EVERY_KIND: ConsoleAction[] = [
  { kind: 'view_alert', ...common, alertId: ALERT, patientId: 'MRN-va', evidenceCount: 4 },
  { kind: 'view_patient_timeline', ...common, patientId: 'MRN-vpt', resultCount: 12 },
  { kind: 'view_user_timeline', ...common, subjectUserId: 'dr-jones', patientIds: ['MRN-vut'], resultCount: 3 },
  {
    kind: 'search',
    ...common,
    filters: { patientId: 'MRN-s', from: NOW - 86_400_000, to: NOW, action: 'view' },
    resultCount: 7,
  },
  { kind: 'patient_access_report', ...common, patientId: 'MRN-par', from: 0, to: NOW, resultCount: 30 },
  { kind: 'export_csv', ...common, what: 'accesses', rowCount: 500, patientId: 'MRN-ec' },
  { kind: 'export_evidence', ...common, eventCount: 9, patientId: 'MRN-ee' },
  { kind: 'decide', ...common, decision: 'false_positive', alerts: [{ alertId: ALERT, patientId: 'MRN-d' }] },
  { kind: 'view_case', ...common, caseId: CASE, patientIds: ['MRN-vc'], alertCount: 2 },
  { kind: 'case_update', ...common, caseId: CASE, change: 'note', patientIds: ['MRN-cu'] },
];

function harness(publish?: (events: readonly AccessEvent[]) => Promise<void>) {
  const published: AccessEvent[][] = [];
  const logs: { level: string; obj: object; msg: string }[] = [];
  let n = 0;
  const trail = createConsoleAuditTrail({
    publish:
      publish ??
      ((events) => {
        published.push([...events]);
        return Promise.resolve();
      }),
    now: () => NOW,
    newId: () => `console-evt-${++n}`,
    logger: {
      debug: (obj, msg) => logs.push({ level: 'debug', obj, msg }),
      error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    },
  });
  return { trail, published, logs };
}

describe('createConsoleAuditTrail: mapping', () => {
  it.each(EVERY_KIND.map((a) => [a.kind, a] as const))(
    '%s becomes sealed, schema-valid access events of the console',
    async (kind, action) => {
      const { trail, published } = harness();
      await trail.record(action);
      expect(published).toHaveLength(1);
      const events = published[0]!;
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        // Sealed exactly as the embedded ledger seals ingested events, and equal to a fresh parse.
        expect(isSealedAccessEvent(e)).toBe(true);
        expect(AccessEventSchema.parse(structuredClone(e))).toEqual(e);
        expect(e).toMatchObject({
          tenant: 'clinic-a',
          occurredAt: NOW,
          receivedAt: NOW,
          source: { system: DEFAULT_CONSOLE_SOURCE_SYSTEM },
          actor: { userId: 'console:priya', role: 'privacy_officer', department: 'privacy-office', ip: '10.1.2.3' },
          outcome: 'success',
          purposeOfUse: 'HCOMPL',
        });
        expect(e.resource.type).toMatch(/^phi-audit\./);
        // The named patient is the event's patient: their access report shows this look-up.
        expect(e.patient?.id).toBe(
          `MRN-${kind
            .split('_')
            .map((w) => w[0])
            .join('')}`,
        );
      }
    },
  );

  it('maps each kind to the expected action, resource and record count', async () => {
    const { trail, published } = harness();
    for (const a of EVERY_KIND) await trail.record(a);
    const summary = published.flat().map((e) => [e.action, e.resource.type, e.resource.id, e.recordCount]);
    expect(summary).toEqual([
      ['view', 'phi-audit.alert', ALERT, 4],
      ['view', 'phi-audit.patient-timeline', undefined, 12],
      ['view', 'phi-audit.user-timeline', 'dr-jones', 3],
      ['query', 'phi-audit.search', undefined, 7],
      ['query', 'phi-audit.patient-access-report', undefined, 30],
      ['export', 'phi-audit.csv-export', 'accesses', 500],
      ['export', 'phi-audit.evidence-bundle', undefined, 9],
      ['update', 'phi-audit.alert', ALERT, undefined],
      ['view', 'phi-audit.case', CASE, 2],
      ['update', 'phi-audit.case', CASE, undefined],
    ]);
  });

  it('records a case opened as a create, each patient of its alerts once; a case of no patient against the reserved id', async () => {
    const { trail, published } = harness();
    await trail.record({
      kind: 'case_update',
      ...common,
      caseId: CASE,
      change: 'opened',
      patientIds: ['MRN-1', 'MRN-2', 'MRN-1'],
    });
    await trail.record({ kind: 'view_case', ...common, caseId: CASE, alertCount: 1 });
    expect(published.map((g) => g.map((e) => [e.action, e.patient?.id, e.resource.id]))).toEqual([
      [
        ['create', 'MRN-1', CASE],
        ['create', 'MRN-2', CASE],
      ],
      [['view', CONSOLE_NO_PATIENT, CASE]],
    ]);
  });

  it('writes one event per patient concerned, each once, with its own event id', async () => {
    const { trail, published } = harness();
    await trail.record({
      kind: 'search',
      ...common,
      filters: { patientId: 'MRN-1' },
      patientIds: ['MRN-1', 'MRN-2', 'MRN-3', 'MRN-2'],
      resultCount: 40,
    });
    await trail.record({
      kind: 'decide',
      ...common,
      decision: 'appropriate',
      alerts: [{ alertId: 'b'.repeat(64), patientId: 'MRN-4' }, { alertId: 'c'.repeat(64) }],
    });
    const [search, decide] = published;
    expect(search!.map((e) => e.patient?.id)).toEqual(['MRN-1', 'MRN-2', 'MRN-3']);
    expect(search!.every((e) => e.recordCount === 40)).toBe(true);
    expect(decide!.map((e) => [e.resource.id, e.patient?.id])).toEqual([
      ['b'.repeat(64), 'MRN-4'],
      ['c'.repeat(64), CONSOLE_NO_PATIENT],
    ]);
    const ids = published.flat().map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('records an action that concerns no patient against the reserved id (the schema needs a patient)', async () => {
    const { trail, published } = harness();
    await trail.record({ kind: 'search', ...common, filters: { userId: 'dr-jones' }, resultCount: 0 });
    await trail.record({ kind: 'view_user_timeline', ...common, subjectUserId: 'dr-jones' });
    await trail.record({ kind: 'export_csv', ...common, what: 'alerts', rowCount: 20 });
    expect(published.map((g) => g.map((e) => [e.patient?.id, e.resource.id]))).toEqual([
      [[CONSOLE_NO_PATIENT, 'dr-jones']],
      [[CONSOLE_NO_PATIENT, 'dr-jones']],
      [[CONSOLE_NO_PATIENT, 'alerts']],
    ]);
  });

  it('copies no search window, decision or other value beyond ids and counts into the events', async () => {
    const { trail, published } = harness();
    const from = 1_234_567_890_123;
    await trail.record({
      kind: 'patient_access_report',
      ...common,
      patientId: 'MRN-9',
      from,
      to: from + 1,
      resultCount: 2,
    });
    await trail.record({ kind: 'decide', ...common, decision: 'escalated', alerts: [{ alertId: ALERT }] });
    const json = JSON.stringify(published);
    expect(json).not.toContain(String(from));
    expect(json).not.toContain('escalated');
    expect(published.flat().every((e) => e.reason === undefined)).toBe(true);
  });

  it.each([
    ['a free-text field', { kind: 'search', ...common, filters: {}, resultCount: 0, query: 'Smith, Jane' }],
    [
      'a decision reason',
      { kind: 'decide', ...common, decision: 'escalated', alerts: [{ alertId: ALERT }], reason: 'her ex' },
    ],
    ['free text as the export kind', { kind: 'export_csv', ...common, what: 'patients named Smith', rowCount: 1 }],
    ['free text in the search filters', { kind: 'search', ...common, filters: { text: 'Smith' }, resultCount: 0 }],
    ['an unknown kind', { kind: 'print', ...common }],
    ['a negative count', { kind: 'view_alert', ...common, alertId: ALERT, evidenceCount: -1 }],
    ['an invalid tenant', { kind: 'view_patient_timeline', ...common, tenant: 'Clinic A', patientId: 'p' }],
    ['a decision on no alert', { kind: 'decide', ...common, decision: 'appropriate', alerts: [] }],
    ['a case title', { kind: 'view_case', ...common, caseId: CASE, alertCount: 1, title: 'Smith snooping' }],
    ['a note as the change', { kind: 'case_update', ...common, caseId: CASE, change: 'Smith was seen' }],
  ])('refuses %s with CONSOLE_AUDIT_INVALID_ACTION and publishes nothing', async (_what, action) => {
    const { trail, published, logs } = harness();
    const error = await trail.record(action as ConsoleAction).catch((e: unknown) => e);
    expect(isConsoleAuditError(error, 'CONSOLE_AUDIT_INVALID_ACTION')).toBe(true);
    expect(published).toHaveLength(0);
    expect(JSON.stringify(logs)).not.toMatch(/Smith|her ex/);
  });
});

describe('createConsoleAuditTrail: audit before disclose', () => {
  it('resolves only after publish resolved', async () => {
    let ack: () => void = () => {};
    const { trail } = harness(() => new Promise<void>((resolve) => (ack = resolve)));
    let done = false;
    const recording = trail.record(EVERY_KIND[0]!).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    ack();
    await recording;
    expect(done).toBe(true);
  });

  it('rejects with CONSOLE_AUDIT_UNAVAILABLE (503, cause kept) when the ledger does not acknowledge', async () => {
    const cause = Object.assign(new Error('disk full for MRN-va'), { code: 'EMBEDDED_STORAGE_FULL' });
    const { trail, logs } = harness(() => Promise.reject(cause));
    const error = await trail.record(EVERY_KIND[0]!).catch((e: unknown) => e);
    expect(isConsoleAuditError(error, 'CONSOLE_AUDIT_UNAVAILABLE')).toBe(true);
    expect((error as Error).cause).toBe(cause);
    expect((error as { statusCode: number }).statusCode).toBe(503);
    expect(logs).toEqual([
      {
        level: 'error',
        obj: {
          kind: 'view_alert',
          tenant: 'clinic-a',
          events: 1,
          errorName: 'Error',
          errorCode: 'EMBEDDED_STORAGE_FULL',
        },
        msg: expect.any(String) as string,
      },
    ]);
  });

  it('logs kind, tenant and counts only: no patient id, user name or alert id', async () => {
    const { trail, logs } = harness();
    for (const a of EVERY_KIND) await trail.record(a);
    expect(logs).toHaveLength(EVERY_KIND.length);
    const text = JSON.stringify(logs);
    expect(text).not.toMatch(/MRN|priya|dr-jones|10\.1\.2\.3/);
    expect(text).not.toContain(ALERT);
  });
});
