import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAuditorKey,
  createIngestKey,
  listIngestKeys,
  openIngestKeyStore,
  revokeIngestKey,
  roleOf,
} from './ingest-keys.js';

const quiet = { info() {}, warn() {}, error() {} };
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-keys-'));
  file = join(dir, 'nested', 'keys.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ingest keys', () => {
  it('creates random phia_ keys, stores only SHA-256 hashes, file mode 0600', async () => {
    const a = await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' });
    const b = await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' });
    expect(a.key).toMatch(/^phia_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(a.key.split('_').slice(2).join('_'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const entries = await listIngestKeys({ file });
    expect(entries.map((e) => e.keyId)).toEqual([a.keyId, b.keyId]);
    expect(entries[0]).toMatchObject({
      tenant: 'clinic-a',
      source: 'ehr-1',
      secretSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('keeps every key when created concurrently (atomic, locked appends)', async () => {
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createIngestKey({ file, tenant: `t${i}`, source: 's' })),
    );
    expect((await listIngestKeys({ file })).map((e) => e.keyId).sort()).toEqual(created.map((c) => c.keyId).sort());
  });

  it('rejects tenants that break the AccessEvent tenant rule', async () => {
    await expect(createIngestKey({ file, tenant: 'Clinic A', source: 's' })).rejects.toThrow(
      /invalid tenant "Clinic A"/,
    );
    await expect(createIngestKey({ file, tenant: 'ok', source: '' })).rejects.toThrow(/invalid source/);
  });

  it('authenticates, notices new and revoked keys after the check interval', async () => {
    const a = await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' });
    const store = openIngestKeyStore({ file, logger: quiet, checkIntervalMs: 50 });
    expect(store.authenticate(a.key)).toEqual({ keyId: a.keyId, tenant: 'clinic-a', source: 'ehr-1' });
    expect(store.authenticate(`${a.key.slice(0, -1)}${a.key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(store.authenticate('garbage')).toBeUndefined();
    const b = await createIngestKey({ file, tenant: 'clinic-b', source: 'lab' });
    await new Promise((r) => setTimeout(r, 60));
    expect(store.authenticate(b.key)?.tenant).toBe('clinic-b');
    await revokeIngestKey({ file, keyId: a.keyId });
    await new Promise((r) => setTimeout(r, 60));
    expect(store.authenticate(a.key)).toBeUndefined();
    expect(await revokeIngestKey({ file, keyId: '0000000000000000' })).toBe(false);
  });

  it('treats a missing file as empty and keeps the last good keys when the file turns malformed', async () => {
    const store = openIngestKeyStore({ file, logger: quiet, checkIntervalMs: 50 });
    expect(store.size()).toBe(0);
    const a = await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' });
    await new Promise((r) => setTimeout(r, 60));
    expect(store.authenticate(a.key)?.keyId).toBe(a.keyId);
    await writeFile(file, '{ not json');
    await new Promise((r) => setTimeout(r, 60));
    expect(store.authenticate(a.key)?.keyId).toBe(a.keyId);
    expect(() => openIngestKeyStore({ file, logger: quiet })).toThrow(/not valid JSON/);
  });

  it('auditor keys read the ledger API only; ingest keys only ingest', async () => {
    const ingest = await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' });
    const auditor = await createAuditorKey({ file });
    expect(auditor.key).toMatch(/^phia_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const store = openIngestKeyStore({ file, logger: quiet, checkIntervalMs: 50 });
    expect(store.authenticate(auditor.key)).toBeUndefined();
    expect(store.authenticateAuditor(auditor.key)).toEqual({ keyId: auditor.keyId });
    expect(store.authenticateAuditor(ingest.key)).toBeUndefined();
    expect(store.authenticate(ingest.key)?.keyId).toBe(ingest.keyId);
    const tampered = `${auditor.key.slice(0, -1)}${auditor.key.endsWith('A') ? 'B' : 'A'}`;
    expect(store.authenticateAuditor(tampered)).toBeUndefined();
    expect((await listIngestKeys({ file })).map(roleOf)).toEqual(['ingest', 'auditor']);
    await revokeIngestKey({ file, keyId: auditor.keyId });
    await new Promise((r) => setTimeout(r, 60));
    expect(store.authenticateAuditor(auditor.key)).toBeUndefined();
  });

  it('reads key files written before roles existed as ingest keys', async () => {
    await createIngestKey({ file, tenant: 'clinic-a', source: 'ehr-1' });
    const legacy = JSON.parse(await readFile(file, 'utf8')) as { version: 1; keys: Record<string, unknown>[] };
    for (const k of legacy.keys) delete k.role;
    await writeFile(file, JSON.stringify(legacy));
    const [entry] = await listIngestKeys({ file });
    expect(entry && roleOf(entry)).toBe('ingest');
  });

  it('refuses an auditor entry that carries a tenant (a malformed file is not half-read)', async () => {
    await createAuditorKey({ file });
    const text = JSON.parse(await readFile(file, 'utf8')) as { version: 1; keys: Record<string, unknown>[] };
    text.keys[0]!.tenant = 'clinic-a';
    await writeFile(file, JSON.stringify(text));
    await expect(listIngestKeys({ file })).rejects.toThrow(/malformed/);
  });
});
