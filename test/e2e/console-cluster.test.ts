import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditorKey } from '@phi-audit/collector';
import { verifyEvidenceBundle } from '@phi-audit/ledger';
import { loadVerifierKeys } from '@phi-audit/checkpoints';
import { alertId, type Alert } from '@phi-audit/rules';
import {
  createClickHouseDetectionStore,
  createClickHouseLedgerStore,
  type ClickHouseDetectionStore,
  type ClickHouseLedgerStore,
} from '@phi-audit/store-clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { CLI, freePort, startCli, waitFor, type CliProcess } from '../harness/processes.js';

// `phi-audit console` in cluster mode: alerts and decisions in ClickHouse, and every view and
// decision published to Kafka as the console's own access events, which the ledger-writer
// appends to the tenant's log like any ingested event.
const TENANT = 'clinic-cc';
const PASSWORD = 'correct horse battery staple 11';

function createUser(dataDir: string, username: string, role: string, tenant?: string): void {
  const args = ['users', 'create', '--data', dataDir, '--username', username, '--role', role];
  if (tenant !== undefined) args.push('--tenant', tenant);
  const created = spawnSync(process.execPath, [CLI, ...args, '--password-stdin'], {
    input: `${PASSWORD}\n`,
    encoding: 'utf8',
  });
  expect(created.status, created.stderr).toBe(0);
}

describe('e2e: the console in cluster mode (ClickHouse alerts, audited through Kafka)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phi-console-cluster-'));
  let stack: ClusterStack | undefined;
  let consoleProcess: CliProcess | undefined;
  let detection: ClickHouseDetectionStore | undefined;
  let ledger: ClickHouseLedgerStore | undefined;

  beforeAll(async () => {
    stack = await startClusterStack({ name: 'console', tenants: [TENANT] });
    detection = createClickHouseDetectionStore({ url: stack.clickhouseUrl, database: stack.database });
    ledger = createClickHouseLedgerStore({ url: stack.clickhouseUrl, database: stack.database });
  }, 120_000);
  afterAll(async () => {
    await consoleProcess?.stop();
    await detection?.close();
    await ledger?.close();
    await stack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it(
    'lists a stored alert, records a decision, and its audit events reach the ClickHouse ledger',
    { timeout: 180_000 },
    async () => {
      const s = stack!;
      // The alert's evidence: one access ingested through the collector and stored by the writer.
      const occurredAt = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
      const posted = await fetch(`${s.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.keys.get(TENANT)!}` },
        body: JSON.stringify([
          {
            eventId: 'cc-ehr-1',
            occurredAt: new Date(occurredAt).toISOString(),
            actor: { userId: 'dr.cc', role: 'nurse' },
            patient: { id: 'MRN-CC-1' },
            action: 'view',
            resource: { type: 'Patient' },
            outcome: 'success',
          },
        ]),
      });
      expect(posted.status, await posted.text()).toBe(202);
      await waitFor(
        `the EHR event in the ledger\n${s.writer.output()}`,
        async () => (await ledger!.recordsByEventId(TENANT, ['cc-ehr-1'])).length === 1,
        60_000,
      );
      const [stored] = await ledger!.recordsByEventId(TENANT, ['cc-ehr-1']);
      const source = (JSON.parse(stored!.eventJson) as { source: { system: string } }).source.system;
      const day = new Date(occurredAt).toISOString().slice(0, 10);
      const alert: Alert = {
        alertId: alertId({ tenant: TENANT, ruleId: 'family', userId: 'dr.cc', patientId: 'MRN-CC-1', day }),
        tenant: TENANT,
        ruleId: 'family',
        userId: 'dr.cc',
        patientId: 'MRN-CC-1',
        day,
        severity: 'high',
        riskScore: 80,
        explanation: 'Shares a surname and address with the patient.',
        evidence: [{ source, eventId: 'cc-ehr-1', occurredAt }],
        truncated: false,
        firstEventAt: occurredAt,
        lastEventAt: occurredAt,
      };
      await detection!.upsertAlerts([alert]);

      // The first account must be an admin; the privacy officer sees this tenant only.
      createUser(dataDir, 'admin', 'admin');
      createUser(dataDir, 'officer', 'privacy_officer', TENANT);
      // An auditor key in the collector's key file: the console serves /v1/ledger to it.
      const { key: auditorKey } = await createAuditorKey({ file: s.env.PHI_AUDIT_KEYS_FILE! });
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const proc = startCli(['console'], {
        ...s.env,
        CONSOLE_DATA_DIR: dataDir,
        CONSOLE_HOST: '127.0.0.1',
        CONSOLE_PORT: String(port),
      });
      consoleProcess = proc;
      await waitFor(`console on ${url}\n${proc.output()}`, async () => (await fetch(`${url}/healthz`)).ok, 60_000);

      const login = await fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'officer', password: PASSWORD }),
      });
      expect(login.status).toBe(200);
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const api = (path: string, init: RequestInit = {}): Promise<Response> =>
        fetch(`${url}/api/tenants/${TENANT}${path}`, {
          ...init,
          headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json', ...init.headers },
        });

      const listed = await api('/alerts');
      expect(listed.status, await listed.clone().text()).toBe(200);
      const list = (await listed.json()) as { total: number; items: { alert: Alert; status: string }[] };
      expect(list.total).toBe(1);
      expect(list.items.map((i) => [i.alert.alertId, i.status])).toEqual([[alert.alertId, 'open']]);

      // The detail reads the evidence from the ClickHouse ledger.
      const opened = await api(`/alerts/${alert.alertId}`);
      expect(opened.status, await opened.clone().text()).toBe(200);
      const detail = (await opened.json()) as { evidence: { event: { eventId: string } }[] };
      expect(detail.evidence.map((e) => e.event.eventId)).toEqual(['cc-ehr-1']);

      // A POST without the CSRF token is refused; with it the decision is stored in ClickHouse.
      const forged = await fetch(`${url}/api/tenants/${TENANT}/alerts/${alert.alertId}/decisions`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'escalated', reason: 'Household member, no care relationship.' }),
      });
      expect(forged.status).toBe(403);
      const decided = await api(`/alerts/${alert.alertId}/decisions`, {
        method: 'POST',
        body: JSON.stringify({ decision: 'escalated', reason: 'Household member, no care relationship.' }),
      });
      expect(decided.status, await decided.clone().text()).toBe(201);
      expect(await decided.json()).toEqual({ status: 'escalated', decision: 'escalated' });
      expect((await detection!.decisions(TENANT, alert.alertId)).map((d) => d.decision)).toEqual(['escalated']);
      const after = (await (await api('/alerts?status=escalated')).json()) as { total: number };
      expect(after.total).toBe(1);

      // The ledger API beside the console, for auditor keys only; the ledger status and an
      // evidence bundle once the writer has checkpointed the EHR event's log.
      const origin = stored!.origin;
      await waitFor(
        `a checkpoint of ${origin}\n${s.writer.output()}`,
        async () => ((await ledger!.latestCheckpoint(origin))?.size ?? 0) > stored!.index,
        60_000,
      );
      const checkpointUrl = `${url}/v1/ledger/checkpoint?log=${encodeURIComponent(origin)}`;
      expect((await fetch(checkpointUrl)).status).toBe(401);
      const note = await fetch(checkpointUrl, { headers: { authorization: `Bearer ${auditorKey}` } });
      expect(note.status).toBe(200);
      expect(await note.text()).toMatch(new RegExp(`^${origin}\n`));
      const status = (await (await api('/ledger-status')).json()) as {
        logs: { origin: string; signatureValid: boolean; rootMatchesTiles: boolean | null }[];
      };
      expect(status.logs.find((l) => l.origin === origin)).toMatchObject({
        signatureValid: true,
        rootMatchesTiles: true,
      });
      const exported = await api('/evidence', { method: 'POST', body: JSON.stringify({ eventIds: ['cc-ehr-1'] }) });
      expect(exported.status, await exported.clone().text()).toBe(200);
      const verified = verifyEvidenceBundle(await exported.text(), {
        trustedKeys: loadVerifierKeys([s.env.PHI_AUDIT_VERIFIER_KEYS!]),
      });
      expect(verified.problems).toEqual([]);
      expect(verified.records.map((r) => r.eventId)).toEqual(['cc-ehr-1']);

      // A case on ClickHouse: opened from the alert, worked, read back; the dashboard counts it.
      const created = await api('/cases', {
        method: 'POST',
        body: JSON.stringify({
          title: 'Household member looked at a relative',
          summary: 'Escalated from the family alert; interview the nurse.',
          alertIds: [alert.alertId],
          discoveredOn: day,
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const { case: opened1 } = (await created.json()) as { case: { caseId: string; status: string } };
      expect(opened1.status).toBe('open');
      const caseUrl = `/cases/${opened1.caseId}`;
      const noted = await api(`${caseUrl}/notes`, {
        method: 'POST',
        body: JSON.stringify({ text: 'Interview booked with the nurse.' }),
      });
      expect(noted.status, await noted.clone().text()).toBe(200);
      const facts = await api(`${caseUrl}/breach-facts`, {
        method: 'POST',
        body: JSON.stringify({ discoveredOn: day, affectedIndividuals: 1, reason: 'One patient record viewed.' }),
      });
      expect(facts.status, await facts.clone().text()).toBe(200);
      const kase = (await (await api(caseUrl)).json()) as {
        notes: { text: string }[];
        alerts: { alertId: string; status: string }[];
        breachClock: { individuals: { deadline: string }; hhs: { notice: string } };
      };
      expect(kase.notes.map((n) => n.text)).toEqual(['Interview booked with the nurse.']);
      expect(kase.alerts).toEqual([expect.objectContaining({ alertId: alert.alertId, status: 'escalated' })]);
      expect(kase.breachClock.hhs.notice).toBe('annual_log');
      expect((await detection!.caseEvents(TENANT, opened1.caseId)).map((e) => e.kind)).toEqual([
        'opened',
        'note',
        'breach_facts',
      ]);
      const dashboard = (await (await api('/dashboard?days=2')).json()) as {
        volume: { buckets: { events: number }[] };
        alerts: { open: number };
        cases: { open: number };
      };
      expect(dashboard.volume.buckets.reduce((n, b) => n + b.events, 0)).toBeGreaterThanOrEqual(1);
      expect(dashboard.alerts.open).toBe(0);
      expect(dashboard.cases.open).toBe(1);

      // Kafka acked each audit event before the console answered; the writer appends them to the log.
      const expected = [
        'create phi-audit.case',
        'export phi-audit.evidence-bundle',
        'query phi-audit.search',
        'update phi-audit.alert',
        'update phi-audit.case',
        'view phi-audit.alert',
        'view phi-audit.case',
        'view phi-audit.patient-timeline',
        'view phi-audit.user-timeline',
      ];
      let seen: string[] = [];
      await waitFor(
        `the console's audit events in the ClickHouse ledger\n${s.writer.output()}\n${proc.output()}`,
        async () => {
          const rows = await ledger!.accessesByUser({ tenant: TENANT, userId: 'console:officer', limit: 100 });
          seen = [...new Set(rows.map((r) => `${r.action} ${r.resourceType}`))].sort();
          return expected.every((e) => seen.includes(e));
        },
        60_000,
      );
      expect(seen).toEqual(expected);
      const rows = await ledger!.accessesByUser({ tenant: TENANT, userId: 'console:officer', limit: 100 });
      expect(rows.every((r) => r.sourceSystem === 'phi-audit-console')).toBe(true);
      expect(
        rows.filter((r) => r.action === 'update' && r.resourceType === 'phi-audit.alert').map((r) => r.patientId),
      ).toEqual(['MRN-CC-1', 'MRN-CC-1']); // the decision, then the escalation by the case

      expect(await proc.stop()).toBe(0);
    },
  );
});
