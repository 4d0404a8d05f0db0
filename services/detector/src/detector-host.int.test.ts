import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetectionStore } from '@phi-audit/rules';
import { createSqliteDetectionStore, type SqliteDetectionStore } from '@phi-audit/store-sqlite';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDetectorHost, type DetectorHost } from './detector-host.js';
import { isDetectorError } from './errors.js';
import { createDetectorMetrics } from './metrics.js';
import { loadPolicyDir } from './policy-dir.js';
import {
  SCENARIO_DAY_START,
  scenarioEvent,
  scenarioEvents,
  scenarioPatients,
  scenarioRelationships,
  scenarioWorkforce,
} from './testing/detection-scenario.js';

const logger = pino({ level: 'silent' });
const TENANT = 'clinic-a';
const meta = { source: 'test', loadedAt: 1 };

describe('detector host on a real SQLite detection store', () => {
  let dir: string;
  let store: SqliteDetectionStore;
  const hosts: DetectorHost[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phi-detector-host-'));
    store = createSqliteDetectionStore({ file: join(dir, 'detection.sqlite') });
  });
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function host(options: { referencePollMs?: number; policyDir?: string } = {}): DetectorHost {
    const h = createDetectorHost({
      store,
      policies: loadPolicyDir({ dir: options.policyDir, logger }),
      logger,
      referencePollMs: options.referencePollMs ?? 0,
    });
    hosts.push(h);
    return h;
  }

  async function loadScenario(tenant = TENANT): Promise<void> {
    await store.putReference(tenant, 'workforce', scenarioWorkforce(), meta);
    await store.putReference(tenant, 'patients', scenarioPatients(), meta);
    await store.putReference(tenant, 'relationships', scenarioRelationships(), meta);
  }

  const byRule = async (tenant = TENANT) =>
    new Map((await store.alerts({ tenant })).map((a) => [`${a.ruleId}:${a.userId}:${a.patientId ?? ''}`, a]));

  it('writes family, self-access and inactive-user alerts with their evidence, and none for a related access', async () => {
    await loadScenario();
    const h = host();
    await h.process(scenarioEvents(TENANT, 'a'));
    expect(await h.flush()).toBeGreaterThan(0);
    const alerts = await byRule();
    expect(alerts.get('family:u-lopez:p-lopez-jr')?.evidence.map((e) => e.eventId)).toEqual(['a-family']);
    expect(alerts.get('self-access:u-chen:p-chen')?.evidence.map((e) => e.eventId)).toEqual(['a-self']);
    expect(alerts.get('inactive-user:u-gone:')?.evidence.map((e) => e.eventId)).toEqual(['a-inactive']);
    expect([...alerts.values()].filter((a) => a.userId === 'u-kim')).toEqual([]);
    // Nothing new: nothing written.
    expect(await h.flush()).toBe(0);
  });

  it('a replay of the same events (a new host, as after a restart) leaves the stored alerts unchanged', async () => {
    await loadScenario();
    const events = scenarioEvents(TENANT, 'r');
    const first = host();
    await first.process(events);
    await first.flush({ endOfInput: true });
    const before = await store.alerts({ tenant: TENANT });
    const second = host();
    await second.process(events);
    await second.process(events); // the same events twice in one run (a client retry)
    await second.flush({ endOfInput: true });
    expect(await store.alerts({ tenant: TENANT })).toEqual(before);
    expect(before.length).toBeGreaterThanOrEqual(3);
  });

  it('picks up a new reference version while running; a tenant without reference data still gets bulk reads', async () => {
    const policyDir = join(dir, 'policies');
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'default.json'), JSON.stringify({ bulkRead: { maxDistinctPatients: 3 } }));
    const h = host({ referencePollMs: 50, policyDir });
    h.start();
    // No reference data: self-access cannot be known, bulk reads can.
    const bulk = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'].map((p, i) => scenarioEvent(TENANT, 'u-bulk', p, 30 + i));
    await h.process([scenarioEvent(TENANT, 'u-chen', 'p-chen', 1, 'before-load'), ...bulk]);
    await h.flush();
    let alerts = await byRule();
    expect(alerts.has('bulk-read:u-bulk:')).toBe(true);
    expect(alerts.has('self-access:u-chen:p-chen')).toBe(false);

    await loadScenario();
    await expect.poll(() => h.stats().references.get(TENANT), { timeout: 5_000 }).toBe(3);
    await h.process([scenarioEvent(TENANT, 'u-chen', 'p-chen', 60, 'after-load')]);
    await h.flush();
    alerts = await byRule();
    expect(alerts.get('self-access:u-chen:p-chen')?.evidence.map((e) => e.eventId)).toEqual(['after-load']);
  });

  it('on a quiet stream, runs peer deviation over a finished day by the wall clock', async () => {
    const clerks = Array.from({ length: 7 }, (_, i) => ({
      userId: `clerk-${i}`,
      givenName: 'Pat',
      familyName: `Clerk${i}`,
      role: 'clerk',
      department: 'billing',
      status: 'active' as const,
      hiredAt: 0,
    }));
    await store.putReference(TENANT, 'workforce', clerks, meta);
    let wall = SCENARIO_DAY_START + 60 * 60_000;
    const h = createDetectorHost({
      store,
      policies: loadPolicyDir({ dir: undefined, logger }),
      logger,
      referencePollMs: 0,
      quietAfterMs: 1_000,
      now: () => wall,
    });
    hosts.push(h);
    const events = [];
    for (let c = 1; c < 7; c++)
      for (let p = 0; p < 3; p++) events.push(scenarioEvent(TENANT, `clerk-${c}`, `p-${c}-${p}`, p));
    for (let p = 0; p < 45; p++) events.push(scenarioEvent(TENANT, 'clerk-0', `p-0-${p}`, 60 + p * 5));
    await h.process(events);
    const peerAlerts = async () =>
      (await store.alerts({ tenant: TENANT, ruleId: 'peer-deviation' })).map((a) => a.userId);
    await h.flush();
    expect(await peerAlerts()).toEqual([]); // the day is still open by event time
    wall = SCENARIO_DAY_START + 2 * 24 * 60 * 60_000; // two days later, no events since
    await h.flush();
    expect(await peerAlerts()).toEqual(['clerk-0']);
  });

  it("does not run the console's own audit events through the rules", async () => {
    await loadScenario();
    const h = host();
    const family = scenarioEvents(TENANT, 'c')[0]!;
    // The same access recorded by the console: an officer opening the record while reviewing.
    await h.process([{ ...family, eventId: 'console-1', source: { system: 'phi-audit-console' } }]);
    await h.flush();
    expect(await store.alerts({ tenant: TENANT })).toEqual([]);
    await h.process([family]);
    await h.flush();
    expect((await store.alerts({ tenant: TENANT })).map((a) => a.ruleId)).toContain('family');
  });

  it('keeps alerts whose write failed and writes them with the next flush', async () => {
    await loadScenario();
    let failNext = true;
    // The real store, with one injected write failure.
    const flaky: DetectionStore = {
      putReference: (...a) => store.putReference(...a),
      referenceData: (...a) => store.referenceData(...a),
      referenceVersions: () => store.referenceVersions(),
      referenceLoads: (t) => store.referenceLoads(t),
      alert: (t, id) => store.alert(t, id),
      alerts: (q) => store.alerts(q),
      close: () => Promise.resolve(),
      upsertAlerts(alerts) {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('disk unavailable'));
        }
        return store.upsertAlerts(alerts);
      },
    };
    const metrics = createDetectorMetrics({ processMetrics: false });
    const h = createDetectorHost({
      store: flaky,
      policies: loadPolicyDir({ dir: undefined, logger }),
      logger,
      metrics,
      referencePollMs: 0,
    });
    hosts.push(h);
    await h.process(scenarioEvents(TENANT, 'f'));
    const failed = await h.flush().catch((e: unknown) => e);
    expect(isDetectorError(failed, 'DETECTOR_STORE_FAILED')).toBe(true);
    expect(await store.alerts({ tenant: TENANT })).toEqual([]);
    expect(await h.flush()).toBeGreaterThanOrEqual(3);
    expect((await byRule()).has('family:u-lopez:p-lopez-jr')).toBe(true);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/phi_audit_detector_flushes_total\{outcome="failed"\} 1/);
    expect(text).toMatch(/phi_audit_detector_events_processed_total 4/);
  });
});
