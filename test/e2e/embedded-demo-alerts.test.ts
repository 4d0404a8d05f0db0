import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '@phi-audit/rules';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyWithCli, startEmbeddedCli } from '../harness/embedded-cli.js';
import { CLI, runCli, waitFor, type CliProcess } from '../harness/processes.js';

const TENANT = 'demo-clinic';

// Issue 5 end to end as a practice would see it: `npm start`, the demo's clinic with its reference
// data and planted snooping, and the alerts read back with `phi-audit alerts`.
describe('e2e: npm start + demo with scenarios → alerts (phi-audit alerts)', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-demo-alerts-'));
  const dataDir = join(root, 'data');
  let server: CliProcess | undefined;
  afterAll(async () => {
    await server?.kill9();
    rmSync(root, { recursive: true, force: true });
  });

  it(
    'raises explained alerts of the planted classes; the CLI lists and filters them',
    { timeout: 180_000 },
    async () => {
      const started = await startEmbeddedCli({ dataDir, env: { LOG_LEVEL: 'warn' } });
      server = started.process;
      const { url } = started;
      const key = await createKeyWithCli(dataDir, '--tenant', TENANT, '--source', 'ehr');
      await new Promise((r) => setTimeout(r, 1_500)); // the running server re-reads the key file each second

      // Five simulated days of the clinic with 30 planted scenarios a day, sent as fast as accepted.
      const demo = await runCli(
        [
          'demo',
          ...['--url', url, '--key', key, '--profile', 'clinic', '--seed', '7', '--since', '5'],
          ...['--scenarios', '30', '--rate', '5000', '--batch', '500', '--duration', '6'],
        ],
        {},
      );
      expect(demo.code, demo.output).toBe(0);
      expect(demo.output).toMatch(/rejected 0, errors 0/);

      const listJson = async (...filters: string[]): Promise<Alert[]> => {
        const run = await runCli([
          'alerts',
          '--data',
          dataDir,
          '--json',
          ...filters,
          ...(filters.includes('--tenant') ? [] : ['--tenant', TENANT]),
        ]);
        expect(run.code, run.output).toBe(0);
        return run.output
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Alert);
      };
      // Scenario classes and the rule that must catch each (the simulator's EXPECTED_RULES).
      const expected = [
        'family',
        'coworker',
        'neighbour',
        'vip-confidential',
        'self-access',
        'after-hours',
        'bulk-read',
        'inactive-user',
        'deceased-patient',
        'break-the-glass',
      ];
      let alerts: Alert[] = [];
      await waitFor(
        'alerts of every planted class',
        async () => {
          alerts = await listJson('--limit', '10000');
          const rules = new Set(alerts.map((a) => a.ruleId));
          return expected.every((r) => rules.has(r));
        },
        60_000,
      );
      // Each alert is explained, carries evidence, and is there once.
      expect(new Set(alerts.map((a) => a.alertId)).size).toBe(alerts.length);
      for (const a of alerts) {
        expect(a.tenant).toBe(TENANT);
        expect(a.explanation.length).toBeGreaterThan(20);
        expect(a.evidence.length).toBeGreaterThan(0);
      }

      // Filters: one rule, a minimum severity, one user.
      const family = await listJson('--rule', 'family');
      expect(family.length).toBeGreaterThan(0);
      expect(family.every((a) => a.ruleId === 'family')).toBe(true);
      const critical = await listJson('--min-severity', 'critical');
      expect(critical.every((a) => a.severity === 'critical')).toBe(true);
      expect(critical.some((a) => a.ruleId === 'inactive-user')).toBe(true);
      const someone = family[0]!.userId;
      const theirs = await listJson('--user', someone);
      expect(theirs.length).toBeGreaterThan(0);
      expect(theirs.every((a) => a.userId === someone)).toBe(true);

      // The human-readable listing names rule, severity, explanation and evidence ids.
      const text = await runCli(['alerts', '--data', dataDir, '--tenant', TENANT, '--rule', 'family', '--limit', '1']);
      expect(text.code, text.output).toBe(0);
      expect(text.output).toMatch(/^\d{4}-\d{2}-\d{2} {2}\w+ +risk +\d+ {2}family {2}user /m);
      expect(text.output).toContain(
        family.find((a) => a.alertId === /alert ([0-9a-f]{64})/.exec(text.output)?.[1])!.explanation,
      );
      expect(text.output).toMatch(/evidence \(\d+\): ehr\//);

      // Another tenant sees nothing; bad filters are usage errors.
      expect(await listJson('--tenant', 'someone-else')).toEqual([]);
      const bad = await runCli(['alerts', '--data', dataDir, '--tenant', TENANT, '--min-severity', 'severe']);
      expect(bad.code).toBe(2);
      expect(bad.output).toMatch(/--min-severity must be one of low, medium, high, critical/);

      // The same alerts through the console API, as a privacy officer of this tenant: list, open one
      // (evidence events and timelines), decide it; each view and decision lands in the ledger.
      const password = 'correct horse battery staple 9';
      const officer = spawnSync(
        process.execPath,
        [CLI, 'users', 'create', '--data', dataDir, '--username', 'admin', '--role', 'admin', '--password-stdin'],
        { input: `${password}\n`, encoding: 'utf8' },
      );
      expect(officer.status, officer.stderr).toBe(0);
      const po = spawnSync(
        process.execPath,
        [
          CLI,
          'users',
          'create',
          '--data',
          dataDir,
          '--username',
          'officer',
          '--role',
          'privacy_officer',
          '--tenant',
          TENANT,
          '--password-stdin',
        ],
        { input: `${password}\n`, encoding: 'utf8' },
      );
      expect(po.status, po.stderr).toBe(0);
      const login = await fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'officer', password }),
      });
      expect(login.status).toBe(200);
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${url}/api/tenants/${TENANT}${path}`, {
          ...init,
          headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json', ...init.headers },
        });
      const listed = await api('/alerts?rule=family&status=open');
      expect(listed.status, await listed.clone().text()).toBe(200);
      const list = (await listed.json()) as {
        total: number;
        items: { alert: Alert; status: string }[];
      };
      expect(list.total).toBe(family.length);
      const target = list.items[0]!.alert;
      const detail = (await (await api(`/alerts/${target.alertId}`)).json()) as {
        alert: Alert;
        evidence: { event: { eventId: string } }[];
        userTimeline: unknown[];
      };
      expect(detail.alert.alertId).toBe(target.alertId);
      expect(detail.evidence.map((e) => e.event.eventId)).toEqual(target.evidence.map((e) => e.eventId));
      expect(detail.userTimeline.length).toBeGreaterThan(0);
      const decided = await api(`/alerts/${target.alertId}/decisions`, {
        method: 'POST',
        body: JSON.stringify({ decision: 'escalated', reason: 'Household member, no care relationship.' }),
      });
      expect(decided.status).toBe(201);
      const after = (await (await api('/alerts?rule=family&status=escalated')).json()) as { total: number };
      expect(after.total).toBe(1);
      // Who looked at that patient's record: the snooper is in the access report and the search.
      const report = (await (await api(`/patients/${encodeURIComponent(target.patientId!)}/access-report`)).json()) as {
        users: { userId: string; accesses: number }[];
      };
      expect(report.users.map((u) => u.userId)).toContain(target.userId);
      const search = await api(`/accesses?patient=${encodeURIComponent(target.patientId!)}&user=${target.userId}`);
      expect(search.status).toBe(200);
      const found = (await search.json()) as { items: { eventId: string }[] };
      expect(found.items.map((r) => r.eventId)).toEqual(expect.arrayContaining(target.evidence.map((e) => e.eventId)));
      const csv = await api(`/accesses.csv?patient=${encodeURIComponent(target.patientId!)}`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect((await csv.text()).split('\n').length).toBeGreaterThan(report.users.length);

      // Another tenant's URL does not exist for this officer.
      expect((await fetch(`${url}/api/tenants/other/alerts`, { headers: { cookie } })).status).toBe(404);

      expect(await server.stop()).toBe(0);
      // The console's look-ups are in the ledger, and it verifies.
      const verify = await runCli(['verify', '--data', dataDir, '--key', join(dataDir, 'checkpoint-signing.key.pub')]);
      expect(verify.code, verify.output).toBe(0);
      const bundle = await runCli([
        'evidence',
        '--data',
        dataDir,
        '--tenant',
        TENANT,
        '--user',
        'console:officer',
        '--out',
        join(root, 'officer.bundle'),
      ]);
      expect(bundle.code, bundle.output).toBe(0);
      server = undefined;
    },
  );
});
