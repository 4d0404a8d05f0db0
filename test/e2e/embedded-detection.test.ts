import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteDetectionStore, detectionFileIn, embeddedOrigin } from '@phi-audit/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import {
  scenarioEvent,
  scenarioEvents,
  scenarioIngestBody,
  scenarioPatients,
  scenarioRelationships,
  scenarioWorkforce,
  sortedAlerts,
} from '../../services/detector/src/testing/detection-scenario.js';
import { createKeyWithCli, startEmbeddedCli } from '../harness/embedded-cli.js';
import { freePort, waitFor, type CliProcess } from '../harness/processes.js';

const TENANT = 'clinic-det';
const SOURCE = 'ehr-test';

// Extra terminated users: each sentinel event by one of them raises a new inactive-user alert, and
// since a log is processed in order, its appearance means every event before it was processed.
const SENTINELS = ['u-sentinel-1', 'u-sentinel-2', 'u-sentinel-3'];

describe('e2e: detection in embedded mode (phi-audit start)', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-embedded-detection-'));
  const dataDir = join(root, 'data');
  const processes: CliProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill9();
    rmSync(root, { recursive: true, force: true });
  });

  it(
    'raises family, self-access and inactive-user alerts (not for a related access); restarts and a cursor reset replay without duplicates',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const start = async (): Promise<CliProcess> => {
        const { process } = await startEmbeddedCli({ dataDir, port, env: { LOG_LEVEL: 'warn' } });
        processes.push(process);
        return process;
      };
      const alertsNow = async (): Promise<Alert[]> => {
        const store = createSqliteDetectionStore({ file: detectionFileIn(dataDir) });
        try {
          return await store.alerts({ tenant: TENANT });
        } finally {
          await store.close();
        }
      };
      const waitForAlert = async (what: string, match: (a: Alert) => boolean): Promise<void> =>
        waitFor(what, async () => (await alertsNow()).some(match), 30_000);

      let server = await start();
      const key = await createKeyWithCli(dataDir, '--tenant', TENANT, '--source', SOURCE);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
      const post = (path: string, body: string) => fetch(`${url}${path}`, { method: 'POST', headers, body });

      // Reference data first (the running ledger re-reads the key file within a second).
      const workforce = [
        ...scenarioWorkforce(),
        ...SENTINELS.map((userId) => ({
          userId,
          givenName: 'Sam',
          familyName: 'Sentinel',
          role: 'clerk',
          department: 'billing',
          status: 'terminated' as const,
          hiredAt: Date.UTC(2020, 0, 1),
          terminatedAt: Date.UTC(2021, 0, 1),
        })),
      ];
      const loads: [string, unknown[]][] = [
        ['workforce', workforce],
        ['patients', scenarioPatients()],
        ['relationships', scenarioRelationships()],
      ];
      for (const [kind, records] of loads) {
        let status = 0;
        await waitFor(
          `reference ${kind} accepted`,
          async () => {
            const res = await post(`/v1/reference/${kind}`, JSON.stringify({ records }));
            status = res.status;
            return status !== 401;
          },
          5_000,
        );
        expect(status, kind).toBe(200);
      }

      // The four scenario accesses.
      expect((await post('/v1/events', scenarioIngestBody(scenarioEvents(TENANT, 'day1')))).status).toBe(202);
      await waitForAlert('the scenario alerts', (a) => a.ruleId === 'inactive-user' && a.userId === 'u-gone');
      const first = await alertsNow();
      const find = (alerts: readonly Alert[], ruleId: string, userId: string) =>
        alerts.filter((a) => a.ruleId === ruleId && a.userId === userId);
      expect(find(first, 'family', 'u-lopez').map((a) => [a.patientId, a.evidence.map((e) => e.eventId)])).toEqual([
        ['p-lopez-jr', ['day1-family']],
      ]);
      expect(find(first, 'self-access', 'u-chen').map((a) => a.evidence.map((e) => e.eventId))).toEqual([
        ['day1-self'],
      ]);
      expect(find(first, 'inactive-user', 'u-gone').map((a) => a.evidence.map((e) => e.eventId))).toEqual([
        ['day1-inactive'],
      ]);
      // The related access (an appointment today) raises nothing.
      expect(first.filter((a) => a.userId === 'u-kim')).toEqual([]);
      expect(first.every((a) => a.evidence.every((e) => e.source === SOURCE))).toBe(true);

      // The detector thread's metrics are on the embedded /metrics: the four events, their three alerts.
      const detectorSample = (text: string, series: string): number =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`${series} `))
            ?.slice(series.length + 1) ?? Number.NaN,
        );
      let metricsText = '';
      await waitFor(
        'the detector metrics on /metrics',
        async () => {
          metricsText = await (await fetch(`${url}/metrics`)).text();
          return (
            detectorSample(metricsText, 'phi_audit_detector_events_processed_total') >= 4 &&
            detectorSample(metricsText, 'phi_audit_detector_alerts_written_total{rule="inactive-user"}') >= 1
          );
        },
        10_000,
      );
      for (const rule of ['family', 'self-access', 'inactive-user']) {
        expect(
          detectorSample(metricsText, `phi_audit_detector_alerts_written_total{rule="${rule}"}`),
          rule,
        ).toBeGreaterThanOrEqual(1);
      }
      expect(detectorSample(metricsText, `phi_audit_detector_lag{source="${embeddedOrigin(TENANT)}"}`)).toBe(0);

      // Stop and start again: the detector replays the open day, the alerts stay the same, once each.
      expect(await server.stop()).toBe(0);
      server = await start();
      const sentinel = async (userId: string, id: string): Promise<void> => {
        expect(
          (await post('/v1/events', scenarioIngestBody([scenarioEvent(TENANT, userId, 'p-baker', 200, id)]))).status,
        ).toBe(202);
        await waitForAlert(`the sentinel alert of ${userId}`, (a) => a.userId === userId);
      };
      await sentinel(SENTINELS[0]!, 'sentinel-1');
      const withoutSentinels = (alerts: readonly Alert[]) => alerts.filter((a) => !SENTINELS.includes(a.userId));
      expect(sortedAlerts(withoutSentinels(await alertsNow()))).toEqual(sortedAlerts(first));

      // A day of events; then the detector cursor is reset and the whole log replayed.
      const users = ['u-lopez', 'u-chen', 'u-kim', 'u-gone'];
      const patients = ['p-lopez-jr', 'p-chen', 'p-ross', 'p-baker'];
      const day: AccessEvent[] = [];
      for (let i = 0; i < 120; i++) {
        day.push(
          scenarioEvent(TENANT, users[i % users.length]!, patients[(i * 7) % patients.length]!, i * 4, `d-${i}`),
        );
      }
      expect((await post('/v1/events', scenarioIngestBody(day))).status).toBe(202);
      await sentinel(SENTINELS[1]!, 'sentinel-2');
      const beforeReplay = await alertsNow();
      expect(beforeReplay.length).toBeGreaterThan(first.length);

      expect(await server.stop()).toBe(0);
      const cursors = createSqliteDetectionStore({ file: detectionFileIn(dataDir) });
      const origin = embeddedOrigin(TENANT);
      expect((await cursors.cursor('detector')).get(origin)).toBe(day.length + 4 + 2);
      await cursors.saveCursor('detector', new Map([[origin, 0]]));
      await cursors.close();

      server = await start();
      await sentinel(SENTINELS[2]!, 'sentinel-3');
      const afterReplay = await alertsNow();
      expect(sortedAlerts(afterReplay.filter((a) => a.userId !== SENTINELS[2]))).toEqual(sortedAlerts(beforeReplay));
      expect(new Set(afterReplay.map((a) => a.alertId)).size).toBe(afterReplay.length);
      expect(await server.stop()).toBe(0);
    },
  );
});
