import type { AccessEvent } from '@phi-audit/schema';
import { createClickHouseDetectionStore, type ClickHouseDetectionStore } from '@phi-audit/store-clickhouse';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  scenarioEvent,
  scenarioEvents,
  scenarioIngestBody,
  scenarioPatients,
  scenarioRelationships,
  scenarioWorkforce,
  sortedAlerts,
} from '../../services/detector/src/testing/detection-scenario.js';
import { startClusterStack, type ClusterStack } from '../harness/cluster-stack.js';
import { freePort, waitFor } from '../harness/processes.js';

const TENANT = 'clinic-cd';

describe('e2e: detection in cluster mode (collector → Kafka → phi-audit detector → ClickHouse)', () => {
  let stack: ClusterStack;
  let store: ClickHouseDetectionStore;
  beforeAll(async () => {
    stack = await startClusterStack({ name: 'detection', tenants: [TENANT], detector: true });
    store = createClickHouseDetectionStore({ url: stack.clickhouseUrl, database: stack.database });
  });
  afterAll(async () => {
    await store?.close();
    await stack?.close();
  });

  /** Resolves once the detector group has committed every message of the topic (commits follow flushes). */
  async function detectorCaughtUp(): Promise<void> {
    const kafka = new Kafka({ brokers: stack.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        `the detector group caught up\n${stack.detector?.output() ?? ''}`,
        async () => {
          const [ends, groups] = await Promise.all([
            admin.fetchTopicOffsets(stack.topic),
            admin.fetchOffsets({ groupId: stack.env.DETECTOR_GROUP_ID!, topics: [stack.topic] }),
          ]);
          const committed = new Map((groups[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          return ends.every((e) => Number(e.high) === 0 || committed.get(e.partition) === Number(e.high));
        },
        90_000,
      );
    } finally {
      await admin.disconnect();
    }
  }

  it(
    'a day of events posted twice yields the alerts of one pass, once each, with evidence event ids',
    { timeout: 240_000 },
    async () => {
      const meta = { source: 'e2e', loadedAt: Date.now() };
      await store.putReference(TENANT, 'workforce', scenarioWorkforce(), meta);
      await store.putReference(TENANT, 'patients', scenarioPatients(), meta);
      await store.putReference(TENANT, 'relationships', scenarioRelationships(), meta);

      const users = ['u-lopez', 'u-chen', 'u-kim', 'u-gone'];
      const patients = ['p-lopez-jr', 'p-chen', 'p-ross', 'p-baker'];
      const day: AccessEvent[] = [...scenarioEvents(TENANT, 'c')];
      for (let i = 0; i < 120; i++) {
        day.push(
          scenarioEvent(TENANT, users[i % users.length]!, patients[(i * 7) % patients.length]!, 20 + i * 4, `cd-${i}`),
        );
      }
      const key = stack.keys.get(TENANT)!;
      const post = async (): Promise<void> => {
        for (let i = 0; i < day.length; i += 50) {
          const res = await fetch(`${stack.collectorUrl}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: scenarioIngestBody(day.slice(i, i + 50)),
          });
          expect(res.status).toBe(202);
        }
      };

      await post();
      await detectorCaughtUp();
      const onePass = await store.alerts({ tenant: TENANT });
      const find = (ruleId: string, userId: string) =>
        onePass.filter((a) => a.ruleId === ruleId && a.userId === userId).map((a) => a.evidence.map((e) => e.eventId));
      expect(find('family', 'u-lopez')[0]).toContain('c-family');
      expect(find('self-access', 'u-chen')[0]).toContain('c-self');
      expect(find('inactive-user', 'u-gone')[0]).toContain('c-inactive');
      // The related access (an appointment that day) raises nothing.
      expect(onePass.filter((a) => a.evidence.some((e) => e.eventId === 'c-benign'))).toEqual([]);

      // The same events again: Kafka carries both copies; the alerts do not change.
      await post();
      await detectorCaughtUp();
      const twoPasses = await store.alerts({ tenant: TENANT });
      expect(sortedAlerts(twoPasses)).toEqual(sortedAlerts(onePass));
      expect(new Set(twoPasses.map((a) => a.alertId)).size).toBe(twoPasses.length);

      // A restart replays the recent messages (DETECTOR_REPLAY_HOURS) and changes nothing either.
      expect(await stack.detector!.stop()).toBe(0);
      const metricsPort = await freePort();
      await stack.startDetector({ METRICS_PORT: String(metricsPort) });
      // Every message of both passes is read again: run through the rules, or skipped as a repeat.
      await waitFor(
        `the restarted detector replayed both passes\n${stack.detector!.output()}`,
        async () => {
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
          const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
          return (
            value('phi_audit_detector_events_processed_total') + value('phi_audit_detector_duplicates_skipped_total') >=
            2 * day.length
          );
        },
        60_000,
      );
      await detectorCaughtUp();
      expect(sortedAlerts(await store.alerts({ tenant: TENANT }))).toEqual(sortedAlerts(onePass));
    },
  );
});
