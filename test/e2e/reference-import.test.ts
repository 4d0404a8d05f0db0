import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, waitFor, type CliProcess } from '../harness/processes.js';

// `phi-audit import` (the built CLI) against `phi-audit start` on a fresh data directory: CSV
// files of each reference kind become versions of the key's tenant in <data>/detection.sqlite.
describe('e2e: phi-audit import loads reference data from CSV into a running phi-audit', () => {
  const root = mkdtempSync(join(tmpdir(), 'phi-reference-import-'));
  const dataDir = join(root, 'data');
  const processes: CliProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill9();
    rmSync(root, { recursive: true, force: true });
  });

  const file = (name: string, text: string): string => {
    const path = join(root, name);
    writeFileSync(path, text);
    return path;
  };
  const keyOf = (output: string): string => {
    const key = /^(phia_\S+)$/m.exec(output)?.[1];
    if (key === undefined) throw new Error(`no key in: ${output}`);
    return key;
  };

  it('imports patients, workforce (through a mapping) and relationships as versions; refuses bad files and keys', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = startCli(['start'], { PORT: String(port), PHI_AUDIT_DATA_DIR: dataDir });
    processes.push(server);
    await waitFor(
      `phi-audit start on ${url}\n${server.output()}`,
      async () => (await fetch(`${url}/readyz`)).ok,
      20_000,
    );

    const created = await runCli(['keys', 'create', '--data', dataDir, '--tenant', 'clinic-a', '--source', 'hr']);
    expect(created.code, created.output).toBe(0);
    const key = keyOf(created.output);
    const other = keyOf(
      (await runCli(['keys', 'create', '--data', dataDir, '--tenant', 'clinic-b', '--source', 'hr'])).output,
    );
    const auditor = keyOf((await runCli(['keys', 'create', '--data', dataDir, '--role', 'auditor'])).output);
    const list = (bearer: string) => fetch(`${url}/v1/reference`, { headers: { authorization: `Bearer ${bearer}` } });
    // The running server re-reads the key file at most once a second.
    await waitFor('the new key accepted', async () => (await list(key)).status === 200, 5_000);

    const patients = file(
      'patients.csv',
      [
        'id,givenName,familyName,birthDate,deathDate,vip,confidential,address.line,address.city,address.state,address.postalCode,workforceUserId',
        'MRN1,Ann,Zephyrine,1980-01-02,,yes,no,1 Main St,Springfield,IL,62701,',
        'MRN2,Bo,"Ray, Jr.",1975-05-06,2024-12-01,,,,,,,',
        'MRN3,Cy,Lopez,1990-07-08,,0,1,2 Elm St,Springfield,IL,62702,u1',
      ].join('\n'),
    );
    const imported = await runCli(['import', 'patients', patients, '--url', url, '--key', key]);
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output).toContain('imported 3 patients as version 1');

    // Different headers through a mapping; date-only hire dates read as local midnight.
    const workforce = file(
      'staff.csv',
      [
        'Login,First Name,Last Name,Job Title,Dept,Employment,Hire Date,Term Date,Badge',
        'u1,Maria,Lopez,physician,cardiology,active,2020-03-01,,B-1',
        'u2,Sam,Ray,nurse,icu,terminated,2019-01-01T08:00:00Z,2024-06-30,B-2',
      ].join('\r\n'),
    );
    const mapping = file(
      'staff-mapping.json',
      JSON.stringify({
        userId: 'Login',
        givenName: 'First Name',
        familyName: 'Last Name',
        role: 'Job Title',
        department: 'Dept',
        status: 'Employment',
        hiredAt: 'Hire Date',
        terminatedAt: 'Term Date',
      }),
    );
    const staff = await runCli(
      ['import', 'workforce', workforce, '--mapping', mapping, '--time-zone', 'America/Chicago', '--url', url],
      { PHI_AUDIT_KEY: key },
    );
    expect(staff.code, staff.output).toBe(0);
    expect(staff.output).toContain('imported 2 workforce as version 2');

    const relationships = file(
      'relationships.csv',
      [
        'sourceId,patientId,userId,departmentId,kind,validFrom,validTo',
        'A-1,MRN1,u1,,appointment,2025-01-06T09:00:00-06:00,2025-01-06T17:00:00-06:00',
        'A-1,MRN1,,cardiology,appointment,1736175600000,1736204400000',
        ',MRN3,u2,,care_team,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z',
      ].join('\n'),
    );
    const rel = await runCli(['import', 'relationships', relationships, '--url', url, '--key', key]);
    expect(rel.code, rel.output).toBe(0);
    expect(rel.output).toContain('imported 3 relationships as version 3');

    const loads = (await (await list(key)).json()) as {
      tenant: string;
      version: number;
      loads: { kind: string; version: number; count: number; source: string }[];
    };
    expect(loads.tenant).toBe('clinic-a');
    expect(loads.version).toBe(3);
    expect(loads.loads.map((l) => [l.kind, l.version, l.count, l.source])).toEqual([
      ['patients', 1, 3, 'hr'],
      ['workforce', 2, 2, 'hr'],
      ['relationships', 3, 3, 'hr'],
    ]);
    // Another tenant's key sees none of it.
    expect(await (await list(other)).json()).toEqual({ tenant: 'clinic-b', version: 0, loads: [] });
    expect(existsSync(join(dataDir, 'detection.sqlite'))).toBe(true);

    // A bad cell: exit 1 naming line and column (never the value); nothing sent.
    const bad = file(
      'patients-bad.csv',
      ['id,givenName,familyName,birthDate', 'MRN4,Di,Kim,1970-01-01', 'MRN5,Ed,Zephyrine,31/12/1969'].join('\n'),
    );
    const refused = await runCli(['import', 'patients', bad, '--url', url, '--key', key]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('line 3, column "birthDate": is not a calendar date YYYY-MM-DD');
    expect(refused.output).not.toContain('31/12/1969');
    expect(refused.output).toContain('nothing was sent');
    // --dry-run checks the good file without sending it.
    const dry = await runCli(['import', 'patients', patients, '--dry-run']);
    expect(dry.code, dry.output).toBe(0);
    expect(dry.output).toContain('3 patients records are valid; nothing was sent (--dry-run)');
    expect(((await (await list(key)).json()) as { version: number }).version).toBe(3);

    // A wrong key, and an auditor key, are refused by the server.
    const wrong = await runCli([
      'import',
      'patients',
      patients,
      '--url',
      url,
      '--key',
      'phia_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/401 REFERENCE_UNAUTHORIZED: unknown or revoked ingest key/);
    const asAuditor = await runCli(['import', 'patients', patients, '--url', url, '--key', auditor]);
    expect(asAuditor.code).not.toBe(0);
    expect(asAuditor.output).toMatch(/401 REFERENCE_UNAUTHORIZED/);
    expect(((await (await list(key)).json()) as { version: number }).version).toBe(3);

    expect(await server.stop()).toBe(0);
  });
});
