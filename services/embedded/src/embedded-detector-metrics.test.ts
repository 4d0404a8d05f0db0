import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestKey } from '@phi-audit/collector';
import { embeddedOrigin } from '@phi-audit/store-sqlite';
import { parseEmbeddedConfig } from './config.js';
import { createEmbeddedLogger, startEmbedded, type RunningEmbedded } from './main.js';

// The detector thread runs the built embedded-detector-worker.js (`npx tsc -b` first).

const TENANT = 'clinic-metrics';
let dir: string;
let key = '';
let running: RunningEmbedded | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phi-embedded-detector-metrics-'));
  ({ key } = await createIngestKey({ file: join(dir, 'ingest-keys.json'), tenant: TENANT, source: 'ehr' }));
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<RunningEmbedded> {
  const config = parseEmbeddedConfig({ PORT: '0', PHI_AUDIT_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  running = await startEmbedded({ config, logger: createEmbeddedLogger('silent'), out: new PassThrough() });
  return running;
}

/** Events a minute old; every third a break-the-glass use without a treatment relationship (an alert each). */
function events(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    eventId: `evt-${i}`,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    actor: { userId: `u${i % 4}`, role: 'nurse' },
    patient: { id: `MRN${1000 + i}` },
    action: i % 3 === 0 ? 'break_glass' : 'view',
    ...(i % 3 === 0 ? { reason: 'emergency department admission' } : {}),
    resource: { type: 'Patient', id: `r${i}` },
    outcome: 'success',
  }));
}

/** The value of one sample line of the Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitForMetrics(app: RunningEmbedded, done: (text: string) => boolean): Promise<string> {
  let text = '';
  for (let i = 0; i < 200; i++) {
    const res = await app.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    text = res.body;
    if (done(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the detector metrics did not arrive:\n${text}`);
}

describe('embedded /metrics shows the detector thread’s metrics', () => {
  it('counts events processed and alerts written, with the lag per ledger log', async () => {
    const app = await start();
    const res = await app.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      payload: JSON.stringify(events(30)),
    });
    expect(res.statusCode).toBe(202);

    const text = await waitForMetrics(
      app,
      (t) =>
        sample(t, 'phi_audit_detector_events_processed_total') === 30 &&
        sample(t, 'phi_audit_detector_alerts_written_total{rule="break-the-glass"}') === 10,
    );
    expect(text).toContain('# TYPE phi_audit_detector_events_processed_total counter');
    expect(sample(text, 'phi_audit_detector_lag{source="' + embeddedOrigin(TENANT) + '"}')).toBe(0);
    expect(sample(text, 'phi_audit_detector_flushes_total{outcome="ok"}')).toBeGreaterThan(0);
    expect(sample(text, 'phi_audit_detector_last_event_time_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
    // The ledger's own metrics are still there, on the same registry.
    expect(sample(text, 'phi_audit_embedded_events_committed_total')).toBe(30);
    // Labels carry rule ids and ledger logs (tenant ids), never patient or user ids.
    expect(text).not.toMatch(/MRN10|"u[0-3]"/);
  });
});
