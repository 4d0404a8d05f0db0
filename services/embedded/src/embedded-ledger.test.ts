import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyLog } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { createEmbeddedLedger, type EmbeddedLedger } from './embedded-ledger.js';
import { isEmbeddedError } from './errors.js';

const logger = pino({ level: 'silent' });
let dir: string;
let file: string;
let store: SqliteLedgerStore;
let ledger: EmbeddedLedger | undefined;
let seq = 0;

function event(overrides: Partial<AccessEvent> = {}): AccessEvent {
  seq += 1;
  return {
    eventId: `evt-${seq}`,
    tenant: 'clinic-a',
    occurredAt: Date.now() - 60_000,
    receivedAt: Date.now(),
    source: { system: 'ehr' },
    actor: { userId: `u${seq % 5}` },
    patient: { id: `MRN${seq}` },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
    ...overrides,
  };
}

/**
 * A writer thread script whose first instance dies on its first message (as a crash mid-commit
 * would) and whose later instances are the real writer.
 */
function crashOnceWorker(): URL {
  const marker = join(dir, 'crashed-once');
  const real = new URL('../dist/ledger-worker.js', import.meta.url).href;
  const script = join(dir, 'crash-once-worker.mjs');
  writeFileSync(
    script,
    `import { existsSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
const marker = ${JSON.stringify(marker)};
if (existsSync(marker)) await import(${JSON.stringify(real)});
else parentPort.once('message', () => { writeFileSync(marker, ''); process.exit(3); });
`,
  );
  return pathToFileURL(script);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phi-embedded-ledger-'));
  file = join(dir, 'ledger.sqlite');
  store = createSqliteLedgerStore({ file });
});
afterEach(async () => {
  await ledger?.close();
  ledger = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded ledger writer thread', () => {
  it('a writer that dies fails its group (nothing acknowledged); the next writer continues the chain', async () => {
    ledger = createEmbeddedLedger({ file, logger, workerUrl: crashOnceWorker() });
    const lost = [event(), event()];
    const error = await ledger.publish(lost).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEmbeddedError(error, 'EMBEDDED_STORE_FAILED')).toBe(true);
    expect(await ledger.isReady()).toBe(false);

    const kept = [event(), event(), event()];
    await ledger.publish(kept);
    // A retry of the failed request after the restart is stored once.
    await ledger.publish(lost);
    await ledger.publish(lost);
    expect(await ledger.isReady()).toBe(true);
    expect(ledger.stats()).toMatchObject({ failedSends: 1, events: 5, duplicates: 2 });

    const origin = embeddedOrigin('clinic-a');
    const ids: string[] = [];
    for await (const r of store.scan(origin)) ids.push(r.eventId);
    expect(ids).toEqual([...kept, ...lost].map((e) => e.eventId));
    const v = await verifyLog({ origin, records: store.scan(origin) });
    expect(v.failure).toBeUndefined();
    expect(v.records).toBe(5);
  });

  it('refuses a request holding an event that is not a valid AccessEvent, alone and without storing any of it', async () => {
    ledger = createEmbeddedLedger({ file, logger });
    const bad = [event(), { ...event(), action: 'peek' } as unknown as AccessEvent];
    const good = [event()];
    const [refused, accepted] = await Promise.allSettled([ledger.publish(bad), ledger.publish(good)]);
    expect(refused.status).toBe('rejected');
    expect(accepted.status).toBe('fulfilled');
    expect((await store.heads()).map((h) => h.size)).toEqual([1]);
  });
});
