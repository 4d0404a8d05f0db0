import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import {
  createChainBuilder,
  createTileBuilder,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  verifyEvidenceBundle,
  type AccessRow,
  type LogStatus,
  type NoteSigner,
  type TileBuilder,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, embeddedOrigin, ledgerFileIn, type SqliteLedgerStore } from '@phi-audit/store-sqlite';
import { createRouteTestApp } from '../testing/route-test-app.js';
import { registerEvidenceRoutes } from './evidence.js';
import { registerLedgerStatusRoutes } from './ledger-status.js';

// Evidence export and ledger status (issue 6) against a real SQLite ledger with real Merkle tiles
// and signed checkpoints; the console's audit events are appended to the same ledger.
const A = 'clinic-a'; // checkpoint signed by the trusted key, then more records after it
const B = 'clinic-b'; // checkpoint signed by a key the console does not trust
const C = 'clinic-c'; // trusted checkpoint, a stored tile altered afterwards
const T0 = Date.UTC(2026, 2, 10, 12);
const MIN = 60_000;

function ehr(tenant: string, eventId: string, patientId: string, occurredAt: number): AccessEvent {
  return {
    eventId,
    tenant,
    occurredAt,
    receivedAt: occurredAt + 1000,
    source: { system: 'ehr' },
    actor: { userId: 'dr-1', role: 'physician' },
    patient: { id: patientId },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
  };
}

const trusted = generateNoteKey('test-host/phi-audit');
const untrusted = generateNoteKey('rogue-host/phi-audit');
const verifier = parseVerifierKey(trusted.verifierKey);

/** The embedded ledger's source offsets are one sequence over all logs. */
let nextOffset = 1;

/** Appends events to the tenant's log with their tiles, as the embedded writer does. */
async function appendWithTiles(
  ledger: SqliteLedgerStore,
  tiles: TileBuilder,
  tenant: string,
  events: readonly AccessEvent[],
): Promise<void> {
  const origin = embeddedOrigin(tenant);
  const chain = createChainBuilder(await ledger.head(origin));
  const records = events.map((event) => chain.append({ sourceOffset: nextOffset++, event }));
  tiles.append(records.map((r) => Buffer.from(r.leafHash, 'hex')));
  await ledger.append(
    records,
    tiles.takeChanged().map((t) => ({ ...t, origin })),
  );
}

async function checkpoint(ledger: SqliteLedgerStore, tenant: string, tiles: TileBuilder, signer: NoteSigner) {
  const origin = embeddedOrigin(tenant);
  const root = tiles.root();
  const note = signCheckpoint({ origin, size: tiles.size, root }, signer);
  await ledger.putCheckpoint({
    origin,
    size: tiles.size,
    rootHex: root.toString('hex'),
    note,
    signedAt: T0 + 99 * MIN,
  });
}

describe('evidence export and ledger status', () => {
  let dir: string;
  let ledger: SqliteLedgerStore;
  let app: FastifyInstance;
  let keyless: FastifyInstance;
  let ledgerDown = false;

  const consoleRows = (tenant: string, username = 'ivan'): Promise<AccessRow[]> =>
    ledger.accessesByUser({ tenant, userId: `console:${username}`, limit: 1000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phi-console-evidence-'));
    ledger = createSqliteLedgerStore({ file: ledgerFileIn(dir) });
    const signer = parseSignerKey(trusted.signerKey);

    const tilesA = createTileBuilder({ size: 0, rightEdge: [] });
    await appendWithTiles(ledger, tilesA, A, [
      ehr(A, 'e-1', 'MRN-1', T0),
      ehr(A, 'e-2', 'MRN-2', T0 + MIN),
      ehr(A, 'e-3', 'MRN-1', T0 + 2 * MIN),
      ehr(A, 'e-4', 'MRN-3', T0 + 3 * MIN),
    ]);
    await checkpoint(ledger, A, tilesA, signer);
    await appendWithTiles(ledger, tilesA, A, [ehr(A, 'e-late', 'MRN-1', T0 + 10 * MIN)]);

    const tilesB = createTileBuilder({ size: 0, rightEdge: [] });
    await appendWithTiles(ledger, tilesB, B, [ehr(B, 'b-1', 'MRN-1', T0), ehr(B, 'b-2', 'MRN-2', T0 + MIN)]);
    await checkpoint(ledger, B, tilesB, parseSignerKey(untrusted.signerKey));

    const tilesC = createTileBuilder({ size: 0, rightEdge: [] });
    await appendWithTiles(ledger, tilesC, C, [ehr(C, 'c-1', 'MRN-1', T0), ehr(C, 'c-2', 'MRN-2', T0 + MIN)]);
    await checkpoint(ledger, C, tilesC, signer);
    // Tampering through the store's own upsert: a wider tile wins, its first hash altered.
    const [tile] = await ledger.readTiles(embeddedOrigin(C), [{ level: 0, index: 0 }]);
    if (tile === undefined) throw new Error('tile 0/0 of log C is not stored');
    const forged = Buffer.concat([tile.hashes, Buffer.alloc(32, 7)]);
    forged[0] = (forged[0] ?? 0) ^ 0xff;
    await ledger.putTiles([{ origin: embeddedOrigin(C), level: 0, index: 0, hashes: forged }]);

    // The console's own events go to the same logs, with tiles, after the checkpoints.
    const tilesOf = new Map([
      [A, tilesA],
      [B, tilesB],
      [C, tilesC],
    ]);
    let appending: Promise<unknown> = Promise.resolve();
    const appendEvents = (events: readonly AccessEvent[]): Promise<void> => {
      const run = appending.then(async () => {
        for (const tenant of new Set(events.map((e) => e.tenant))) {
          const tiles = tilesOf.get(tenant) ?? createTileBuilder({ size: 0, rightEdge: [] });
          tilesOf.set(tenant, tiles);
          await appendWithTiles(
            ledger,
            tiles,
            tenant,
            events.filter((e) => e.tenant === tenant),
          );
        }
      });
      appending = run.catch(() => undefined);
      return run;
    };
    const audit = createConsoleAuditTrail({
      publish: (events) => (ledgerDown ? Promise.reject(new Error('ledger down')) : appendEvents(events)),
    });
    const register = (keys: readonly (typeof verifier)[]) => (api: FastifyInstance) => {
      registerEvidenceRoutes(api, { ledger, audit, verifierKeys: keys, now: () => T0 });
      registerLedgerStatusRoutes(api, {
        ledger,
        verifierKeys: keys,
        tenantLogs: (tenant) => [embeddedOrigin(tenant)],
        now: () => T0 + 1,
      });
    };
    app = await createRouteTestApp({ tenants: [A, B, C], defaultUser: 'ivan', register: register([verifier]) });
    keyless = await createRouteTestApp({ tenants: [A], defaultUser: 'ivan', register: register([]) });
  });

  afterAll(async () => {
    await app.close();
    await keyless.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    ledgerDown = false;
  });

  const exportEvidence = (tenant: string, payload: object, role: Role = 'investigator', on = app) =>
    on.inject({ method: 'POST', url: `/api/tenants/${tenant}/evidence`, payload, headers: { 'x-test-role': role } });
  const status = async (tenant: string, role: Role = 'auditor') => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant}/ledger-status`,
      headers: { 'x-test-role': role },
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ tenant: string; verifierKeys: string[]; logs: LogStatus[] }>();
  };

  describe('POST /evidence', () => {
    it('answers a bundle of the events that verifies with the trusted key, after recording the export', async () => {
      const before = await consoleRows(A);
      const res = await exportEvidence(A, { eventIds: ['e-1', 'e-3'] });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="phi-audit-evidence-${T0}.json"`);
      const verified = verifyEvidenceBundle(res.body, { trustedKeys: [verifier] });
      expect(verified.problems).toEqual([]);
      expect(verified.records.map((r) => r.eventId)).toEqual(['e-1', 'e-3']);
      const recorded = (await consoleRows(A)).filter((r) => !before.some((b) => b.eventId === r.eventId));
      expect(recorded.map((r) => [r.action, r.resourceType, r.patientId])).toEqual([
        ['export', 'phi-audit.evidence-bundle', 'MRN-1'],
      ]);
    });

    it("bundles a patient's accesses in a period", async () => {
      const res = await exportEvidence(A, { patientId: 'MRN-1', from: '2026-03-10', to: T0 + 5 * MIN }, 'admin');
      expect(res.statusCode).toBe(200);
      const verified = verifyEvidenceBundle(res.body, { trustedKeys: [verifier] });
      expect(verified.problems).toEqual([]);
      expect(verified.records.map((r) => r.eventId).sort()).toEqual(['e-1', 'e-3']);
    });

    it('refuses records newer than the latest checkpoint with 409, recording nothing', async () => {
      const before = await consoleRows(A);
      const res = await exportEvidence(A, { eventIds: ['e-2', 'e-late'] });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('CONSOLE_EVIDENCE_NOT_CHECKPOINTED');
      expect(res.headers['retry-after']).toBe('10');
      expect(await consoleRows(A)).toHaveLength(before.length);
    });

    it('refuses a checkpoint the console does not trust, unknown events and bad bodies', async () => {
      const untrustedLog = await exportEvidence(B, { eventIds: ['b-1'] });
      expect(untrustedLog.statusCode).toBe(500);
      expect(untrustedLog.json().error.code).toBe('CONSOLE_EVIDENCE_UNVERIFIABLE');

      const unknown = await exportEvidence(A, { eventIds: ['e-1', 'nope'] });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({
        error: {
          code: 'CONSOLE_EVIDENCE_NOT_FOUND',
          message: "1 of the requested events is not in the tenant's ledger",
        },
      });
      // Another tenant's event ids are not this tenant's.
      expect((await exportEvidence(A, { eventIds: ['b-1'] })).statusCode).toBe(404);

      for (const [body, field] of [
        [{}, 'body: give exactly one of'],
        [{ eventIds: ['e-1'], patientId: 'MRN-1' }, 'body: give exactly one of'],
        [{ eventIds: ['e-1'], from: 0 }, 'body.from'],
        [{ userId: 'dr-1', from: 'yesterday' }, 'body.from'],
        [{ eventIds: [] }, 'body.eventIds'],
        [{ eventIds: ['e-1'], colour: 'red' }, 'colour'],
      ] as const) {
        const res = await exportEvidence(A, body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().error.code).toBe('CONSOLE_INVALID_REQUEST');
        expect(res.json().error.message).toContain(field);
      }
    });

    it('sends no bundle when the ledger does not acknowledge the export', async () => {
      ledgerDown = true;
      const res = await exportEvidence(A, { eventIds: ['e-1'] });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('CONSOLE_AUDIT_UNAVAILABLE');
      expect(res.body).not.toContain('MRN-1');
    });

    it('is for investigators, privacy officers and admins; needs a verifier key', async () => {
      expect((await exportEvidence(A, { eventIds: ['e-1'] }, 'auditor')).statusCode).toBe(403);
      expect((await exportEvidence(A, { eventIds: ['e-1'] }, 'privacy_officer')).statusCode).toBe(200);
      const res = await exportEvidence(A, { eventIds: ['e-1'] }, 'investigator', keyless);
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('CONSOLE_EVIDENCE_NO_VERIFIER_KEY');
    });
  });

  describe('GET /ledger-status', () => {
    it('reports a trusted checkpoint whose root the tiles reproduce, and the records after it', async () => {
      const body = await status(A);
      expect(body.verifierKeys).toEqual([`test-host/phi-audit+${verifier.keyId.toString(16).padStart(8, '0')}`]);
      const [log] = body.logs;
      const size = (await ledger.head(embeddedOrigin(A))).size;
      expect(log).toEqual({
        origin: embeddedOrigin(A),
        size,
        checkpoint: { size: 4, timestamp: T0 + 99 * MIN, keyName: 'test-host/phi-audit' },
        signatureValid: true,
        uncheckpointed: size - 4,
        rootMatchesTiles: true,
        problems: [],
        checkedAt: T0 + 1,
      });
      expect(size).toBeGreaterThan(4);
    });

    it('shows false for a checkpoint signed by an unknown key', async () => {
      const [log] = (await status(B, 'privacy_officer')).logs;
      expect(log).toMatchObject({ signatureValid: false, rootMatchesTiles: true, uncheckpointed: 0 });
      expect(log?.checkpoint?.keyName).toBe('rogue-host/phi-audit');
      expect(log?.problems.join()).toContain('does not verify');
    });

    it('shows false when a stored tile no longer gives the signed root', async () => {
      const [log] = (await status(C, 'investigator')).logs;
      expect(log).toMatchObject({ signatureValid: true, rootMatchesTiles: false });
      expect(log?.problems.join()).toContain('differs');
    });

    it('lists a log without checkpoint as such', async () => {
      const res = await keyless.inject({
        method: 'GET',
        url: `/api/tenants/clinic-new/ledger-status`,
        headers: { 'x-test-role': 'admin' },
      });
      expect(res.json().logs).toEqual([
        {
          origin: embeddedOrigin('clinic-new'),
          size: 0,
          checkpoint: null,
          signatureValid: false,
          uncheckpointed: 0,
          rootMatchesTiles: null,
          problems: ['no checkpoint is stored for this log yet'],
          checkedAt: T0 + 1,
        },
      ]);
    });
  });
});
