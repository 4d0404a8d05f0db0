import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY } from '@phi-audit/rules';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDetectorError } from './errors.js';
import { checkPolicyFile, loadPolicyDir, policyFileName } from './policy-dir.js';

const logger = pino({ level: 'silent' });

describe('policy directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'phi-policies-')), 'policies');
    mkdirSync(dir);
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  const write = (name: string, policy: unknown) =>
    writeFileSync(join(dir, name), typeof policy === 'string' ? policy : JSON.stringify(policy));

  it('uses DEFAULT_POLICY without a directory or without files', () => {
    expect(loadPolicyDir({ dir: join(dir, 'missing'), logger }).policyFor('t')).toBe(DEFAULT_POLICY);
    expect(loadPolicyDir({ dir: undefined, logger }).policyFor('t')).toBe(DEFAULT_POLICY);
    expect(loadPolicyDir({ dir, logger }).policyFor('t')).toBe(DEFAULT_POLICY);
  });

  it('a tenant file (url-encoded name) wins over default.json, which wins over the built-in default', () => {
    const tenant = 'north/clinic a';
    expect(policyFileName(tenant)).toBe('north%2Fclinic%20a.json');
    write(policyFileName(tenant), { timeZone: 'America/Chicago' });
    write('default.json', { timeZone: 'Europe/Berlin' });
    const policies = loadPolicyDir({ dir, logger });
    expect(policies.policyFor(tenant).timeZone).toBe('America/Chicago');
    expect(policies.policyFor('other').timeZone).toBe('Europe/Berlin');
    // Cached: the engine calls it per event.
    expect(policies.policyFor(tenant)).toBe(policies.policyFor(tenant));
  });

  it('a bad file fails the load, naming the file and every problem', () => {
    write('clinic-a.json', { timeZone: 'Mars/Olympus', bulkRead: { maxDistinctPatients: 0 } });
    write('clinic-b.json', '{ not json');
    let error: unknown;
    try {
      loadPolicyDir({ dir, logger });
    } catch (e) {
      error = e;
    }
    expect(isDetectorError(error, 'DETECTOR_POLICY_INVALID')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`${join(dir, 'clinic-a.json')}: timeZone: unknown IANA time zone`);
    expect(message).toContain(`${join(dir, 'clinic-a.json')}: bulkRead.maxDistinctPatients`);
    expect(message).toContain(`${join(dir, 'clinic-b.json')}: (file): not JSON`);
  });

  it('reload applies a valid change, keeps the old policy for a broken file, and falls back when a file goes', () => {
    write('clinic-a.json', { timeZone: 'America/Chicago' });
    const policies = loadPolicyDir({ dir, logger });
    write('clinic-a.json', { timeZone: 'America/Denver' });
    policies.reload();
    expect(policies.policyFor('clinic-a').timeZone).toBe('America/Denver');
    write('clinic-a.json', { timeZone: 'Nowhere/Land' });
    policies.reload();
    expect(policies.policyFor('clinic-a').timeZone).toBe('America/Denver');
    unlinkSync(join(dir, 'clinic-a.json'));
    policies.reload();
    expect(policies.policyFor('clinic-a')).toBe(DEFAULT_POLICY);
  });

  it('checkPolicyFile reports ok or every problem', () => {
    write('good.json', {});
    write('bad.json', { afterHours: { graceMinutes: -1 }, unknownSection: true });
    expect(checkPolicyFile(join(dir, 'good.json')).ok).toBe(true);
    const bad = checkPolicyFile(join(dir, 'bad.json'));
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.length).toBe(2);
    expect(checkPolicyFile(join(dir, 'absent.json'))).toEqual({
      ok: false,
      problems: ['(file): cannot read it (ENOENT)'],
    });
  });
});
