import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChainBuilder,
  createTileBuilder,
  generateNoteKey,
  parseSignerKey,
  signCheckpoint,
  type LedgerRecord,
  type LogTile,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { createSqliteLedgerStore, ledgerFileIn } from '@phi-audit/store-sqlite';
import { DATA_DIR_VERIFIER_KEY_FILE, parseEvidenceArgs, parseIsoTime, runEvidenceCommand } from './evidence.js';
import { runVerifyEvidenceCommand } from './verify-evidence.js';

const LOG0 = 'phi-audit/access-events/0';
const LOG1 = 'phi-audit/access-events/1';
const T0 = Date.UTC(2026, 0, 10, 8, 0, 0);

function event(i: number): AccessEvent {
  return {
    eventId: `evt-${i}`,
    tenant: 'clinic-a',
    occurredAt: T0 + i * 60_000,
    receivedAt: T0 + i * 60_000 + 500,
    source: { system: 'ehr' },
    actor: { userId: `u${i % 3}`, name: 'Dr. Secretname' },
    patient: { id: `p${i % 4}` },
    action: i % 2 === 0 ? 'view' : 'print',
    resource: { type: 'Encounter' },
    outcome: 'success',
  };
}

/** Writes a new log `origin` holding `events`, with its tiles; returns its size and root. */
async function writeLog(file: string, origin: string, events: number[], offsetBase: number) {
  const store = createSqliteLedgerStore({ file });
  try {
    const head = await store.head(origin);
    if (head.size !== 0) throw new Error('test logs are written once');
    const chain = createChainBuilder(head);
    const tiles = createTileBuilder({ size: 0, rightEdge: [] });
    const records: LedgerRecord[] = events.map((i, n) =>
      chain.append({ sourceOffset: offsetBase + n, event: event(i) }),
    );
    tiles.append(records.map((r) => Buffer.from(r.leafHash, 'hex')));
    const changed: LogTile[] = tiles.takeChanged().map((t) => ({ ...t, origin }));
    await store.append(records, changed);
    return { size: records.length, root: tiles.root() };
  } finally {
    await store.close();
  }
}

async function putCheckpoint(file: string, note: string, origin: string, size: number, rootHex: string) {
  const store = createSqliteLedgerStore({ file });
  try {
    await store.putCheckpoint({ origin, size, rootHex, note, signedAt: Date.now() });
  } finally {
    await store.close();
  }
}

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, text: () => text };
}

async function evidence(args: Parameters<typeof runEvidenceCommand>[0], env: NodeJS.ProcessEnv = {}) {
  const out = sink();
  const err = sink();
  const code = await runEvidenceCommand(args, { out: out.stream, err: err.stream, env });
  return { code, out: out.text(), err: err.text() };
}

function verifyEvidence(file: string, key?: string[], env: NodeJS.ProcessEnv = {}) {
  const out = sink();
  const err = sink();
  const code = runVerifyEvidenceCommand(file, key ? { key } : {}, { out: out.stream, err: err.stream, env });
  return { code, out: out.text(), err: err.text() };
}

describe('phi-audit evidence / verify-evidence over an embedded data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-evidence-'));
  const dataDir = join(root, 'data');
  const file = ledgerFileIn(dataDir);
  const key = generateNoteKey('test-host/phi-audit');
  const other = generateNoteKey('someone-else');
  const keyFile = join(dataDir, DATA_DIR_VERIFIER_KEY_FILE);
  let n = 0;
  const outFile = () => join(root, `bundle-${++n}.json`);

  beforeAll(async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(keyFile, `${key.verifierKey}\n`);
    const signer = parseSignerKey(key.signerKey);
    // log 0: events 0..9, checkpointed at 10; log 1: events 20..24 checkpointed at 5, then 25..26 not yet.
    for (const [origin, events, base] of [
      [LOG0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0],
      [LOG1, [20, 21, 22, 23, 24], 100],
    ] as const) {
      const { size, root: merkleRoot } = await writeLog(file, origin, [...events], base);
      const note = signCheckpoint({ origin, size, root: merkleRoot }, signer);
      await putCheckpoint(file, note, origin, size, merkleRoot.toString('hex'));
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exports a patient’s accesses across logs (mode 0600, no event contents printed) and the bundle verifies offline', async () => {
    const out = outFile();
    const run = await evidence({ data: dataDir, tenant: 'clinic-a', patient: 'p0', out });
    expect(run.code, run.err).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // p0: events 0, 4, 8 in log 0 and 20, 24 in log 1.
    expect(run.out).toContain('5 records from 2 logs');
    expect(run.out).toContain(`${LOG0}: 3 records, checkpoint size 10`);
    expect(run.out).toContain(`${LOG1}: 2 records, checkpoint size 5`);
    expect(run.out).toMatch(/key test-host\/phi-audit\+[0-9a-f]{8}/);
    expect(run.out + run.err).not.toContain('Secretname');
    expect(run.out + run.err).not.toContain('evt-');

    const trusted = verifyEvidence(out, [keyFile]);
    expect(trusted.code, trusted.err).toBe(0);
    expect(trusted.out).toContain(`${LOG0}  0  evt-0  2026-01-10T08:00:00.000Z  view`);
    expect(trusted.out).toContain(`${LOG1}  4  evt-24  ${new Date(T0 + 24 * 60_000).toISOString()}  view`);
    expect(trusted.out).toContain('every checkpoint signed by a trusted key');

    const selfOnly = verifyEvidence(out);
    expect(selfOnly.code).toBe(0);
    expect(selfOnly.out).toContain('self-consistent only');
    expect(selfOnly.out).toContain('proves only that the bundle is self-consistent');

    const wrongKey = verifyEvidence(out, [other.verifierKey]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toContain('not signed by any trusted key');
    // $PHI_AUDIT_VERIFIER_KEYS is the default trust source.
    expect(verifyEvidence(out, undefined, { PHI_AUDIT_VERIFIER_KEYS: other.verifierKey }).code).toBe(1);

    const bytes = readFileSync(out);
    const tampered = join(root, 'tampered.json');
    const i = bytes.indexOf('evt-8');
    bytes[i + 4] = '9'.charCodeAt(0);
    writeFileSync(tampered, bytes);
    const bad = verifyEvidence(tampered, [keyFile]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/INVALID: record 2 \(log phi-audit\/access-events\/0, index 8\)/);

    expect(verifyEvidence(join(root, 'missing.json')).code).toBe(2);
    expect(verifyEvidence(out, ['not a key']).code).toBe(2);
  });

  it('exports chosen events and a user’s accesses within a time window', async () => {
    const byEvent = outFile();
    const run = await evidence({ data: dataDir, tenant: 'clinic-a', event: ['evt-3', 'evt-21'], out: byEvent });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('2 records from 2 logs');
    expect(verifyEvidence(byEvent, [key.verifierKey]).out).toMatch(/evt-3 .*\n.*evt-21 /);

    const byUser = outFile();
    const window = {
      from: new Date(T0 + 2 * 60_000).toISOString(),
      to: new Date(T0 + 9 * 60_000).toISOString(),
    };
    const user = await evidence({ data: dataDir, tenant: 'clinic-a', user: 'u1', ...window, out: byUser });
    expect(user.code, user.err).toBe(0);
    // u1: events 1, 4, 7 (+22, 25 out of the window); window [2, 9) → 4, 7.
    const listed = verifyEvidence(byUser, [keyFile]).out;
    expect(listed.match(/evt-\d+/g)).toEqual(['evt-4', 'evt-7']);
  });

  it('refuses records not covered by a checkpoint yet, naming the retry interval', async () => {
    await writeLog(file, 'phi-audit/access-events/2', [30, 31], 200);
    const run = await evidence({ data: dataDir, tenant: 'clinic-a', event: ['evt-31'], out: outFile() });
    expect(run.code).toBe(1);
    expect(run.err).toContain('not covered by a signed checkpoint yet');
    expect(run.err).toContain('CHECKPOINT_INTERVAL_SECONDS');
  });

  it('refuses a checkpoint that does not verify with the trusted key, and unknown events', async () => {
    const run = await evidence({
      data: dataDir,
      tenant: 'clinic-a',
      patient: 'p1',
      key: [other.verifierKey],
      out: outFile(),
    });
    expect(run.code).toBe(1);
    expect(run.err).toContain('does not verify with the trusted keys');

    const missing = await evidence({ data: dataDir, tenant: 'clinic-a', event: ['evt-1', 'nope'], out: outFile() });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('"nope"');
    const otherTenant = await evidence({ data: dataDir, tenant: 'clinic-b', patient: 'p1', out: outFile() });
    expect(otherTenant.code).toBe(1);
    expect(otherTenant.err).toContain('no records match');
  });

  it('refuses to bundle a row whose stored fields were altered', async () => {
    const copyDir = join(root, 'altered');
    mkdirSync(copyDir);
    writeFileSync(ledgerFileIn(copyDir), readFileSync(file));
    writeFileSync(join(copyDir, DATA_DIR_VERIFIER_KEY_FILE), `${key.verifierKey}\n`);
    const db = new Database(ledgerFileIn(copyDir));
    db.prepare('UPDATE access_log SET event_json = replace(event_json, ?, ?) WHERE log = ? AND idx = 4').run(
      'Secretname',
      'Othername',
      LOG0,
    );
    db.close();
    const run = await evidence({ data: copyDir, tenant: 'clinic-a', patient: 'p0', out: outFile() });
    expect(run.code).toBe(1);
    expect(run.err).toContain('index 4');
    expect(run.err).toContain('leaf hash does not match');
  });

  it('never overwrites a file and reports usage errors with exit 2', async () => {
    const existing = join(root, 'existing.json');
    writeFileSync(existing, 'x');
    chmodSync(existing, 0o644);
    expect((await evidence({ data: dataDir, tenant: 'clinic-a', patient: 'p0', out: existing })).code).toBe(2);
    expect(readFileSync(existing, 'utf8')).toBe('x');
    const usage = [
      { data: dataDir, patient: 'p0', out: 'x' },
      { data: dataDir, tenant: 'clinic-a', out: 'x' },
      { data: dataDir, tenant: 'clinic-a', patient: 'p0', user: 'u1', out: 'x' },
      { data: dataDir, tenant: 'clinic-a', patient: 'p0' },
      { data: dataDir, tenant: 'clinic-a', event: ['e'], from: '2026-01-01', out: 'x' },
      { data: dataDir, tenant: 'clinic-a', patient: 'p0', from: '2026-01-01T00:00:00', out: 'x' },
      { data: dataDir, clickhouse: 'http://x', tenant: 'clinic-a', patient: 'p0', out: 'x' },
      { data: root, tenant: 'clinic-a', patient: 'p0', out: 'x' },
      { tenant: 'clinic-a', patient: 'p0', out: 'x' },
    ];
    for (const args of usage) {
      const r = await evidence(args);
      expect(r.code, JSON.stringify(args)).toBe(2);
    }
  });

  it('parses times and key sources', () => {
    expect(parseIsoTime('2026-01-10')).toBe(Date.UTC(2026, 0, 10));
    expect(parseIsoTime('2026-01-10T09:00:00+01:00')).toBe(T0);
    expect(parseIsoTime('2026-01-10T08:00')).toBeUndefined();
    expect(parseIsoTime('yesterday')).toBeUndefined();
    const fromEnv = parseEvidenceArgs(
      { data: dataDir, tenant: 't', patient: 'p', out: 'o' },
      { PHI_AUDIT_VERIFIER_KEYS: `${key.verifierKey}, ${keyFile}` },
    );
    expect(fromEnv).toMatchObject({ keyEntries: [key.verifierKey, keyFile], keySource: '$PHI_AUDIT_VERIFIER_KEYS' });
    expect(parseEvidenceArgs({ data: dataDir, tenant: 't', patient: 'p', out: 'o' }, {})).toMatchObject({
      keyEntries: [keyFile],
    });
  });
});
