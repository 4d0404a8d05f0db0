import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '@phi-audit/rules';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyWithCli, startEmbeddedCli } from '../harness/embedded-cli.js';
import { runCli, waitFor, type CliProcess } from '../harness/processes.js';

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

      expect(await server.stop()).toBe(0);
      server = undefined;
    },
  );
});
