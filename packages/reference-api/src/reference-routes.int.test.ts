import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteDetectionStore, type SqliteDetectionStore } from '@phi-audit/store-sqlite';
import { MAX_RECORDS } from './validate-records.js';
import {
  REFERENCE_BODY_LIMIT,
  registerReferenceRoutes,
  type ReferencePrincipal,
  type ReferenceStore,
} from './reference-routes.js';

// The real SQLite detection store on a temp file; the key check is the collector's contract
// (ingest keys → principal, anything else including auditor keys → undefined), played by a table.
const KEY_A = 'phia_key_clinic_a';
const KEY_B = 'phia_key_clinic_b';
const AUDITOR = 'phia_key_auditor';
const PRINCIPALS = new Map<string, ReferencePrincipal>([
  [KEY_A, { keyId: 'ka', tenant: 'clinic-a', source: 'ehr-a' }],
  [KEY_B, { keyId: 'kb', tenant: 'clinic-b', source: 'ehr-b' }],
]);

const dir = mkdtempSync(join(tmpdir(), 'phi-reference-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let store: SqliteDetectionStore;
let app: FastifyInstance;
let n = 0;

async function appFor(target: ReferenceStore | undefined): Promise<FastifyInstance> {
  const server = Fastify({ logger: false });
  // As in the collector: the ingest route swaps the root's parsers for a raw one.
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await registerReferenceRoutes(server, {
    store: target,
    authenticate: (bearer) => PRINCIPALS.get(bearer),
    notConfiguredHint: 'set CLICKHOUSE_URL',
  });
  await server.ready();
  return server;
}

beforeEach(async () => {
  n += 1;
  store = createSqliteDetectionStore({ file: join(dir, `detection-${n}.sqlite`) });
  app = await appFor(store);
});
afterEach(async () => {
  await app.close();
  await store.close();
});

const patient = (i: number) => ({
  id: `MRN${i}`,
  givenName: 'Ann',
  familyName: `Zephyrine${i}`,
  birthDate: '1980-01-02',
  address: { line: `${i} Main St`, city: 'Springfield', state: 'IL', postalCode: '62701' },
});
const member = (i: number) => ({
  userId: `u${i}`,
  givenName: 'Maria',
  familyName: 'Lopez',
  role: 'physician',
  department: 'cardiology',
  status: 'active',
  hiredAt: 1_600_000_000_000,
});

function post(kind: string, body: unknown, key: string | null = KEY_A, type = 'application/json') {
  return app.inject({
    method: 'POST',
    url: `/v1/reference/${kind}`,
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), 'content-type': type },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const list = (key: string | null = KEY_A) =>
  app.inject({
    method: 'GET',
    url: '/v1/reference',
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
const loadsOf = async (tenant: string) => store.referenceLoads(tenant);

describe('POST /v1/reference/:kind', () => {
  it('stores a load as a new version of the key tenant, answering only after the commit', async () => {
    const res = await post('patients', { records: [patient(1), patient(2), patient(3)] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ tenant: 'clinic-a', kind: 'patients', version: 1, count: 3 });
    const { version, data } = await store.referenceData('clinic-a');
    expect(version).toBe(1);
    expect(data.patients.map((p) => p.id).sort()).toEqual(['MRN1', 'MRN2', 'MRN3']);
    expect(data.patients[0]?.vip).toBe(false); // schema defaults applied
  });

  it('numbers versions upward across kinds and lists the loads without PHI', async () => {
    expect((await post('patients', { records: [patient(1)] })).json()).toMatchObject({ version: 1 });
    expect((await post('workforce', { records: [member(1), member(2)] })).json()).toMatchObject({ version: 2 });
    const again = await post('patients', { records: [{ ...patient(1), familyName: 'Other' }] });
    expect(again.json()).toEqual({ tenant: 'clinic-a', kind: 'patients', version: 3, count: 1 });
    const res = await list();
    expect(res.statusCode).toBe(200);
    const body = res.json<{ tenant: string; version: number; loads: Record<string, unknown>[] }>();
    expect(body.tenant).toBe('clinic-a');
    expect(body.version).toBe(3);
    expect(body.loads.map((l) => [l.kind, l.version, l.count, l.source])).toEqual([
      ['patients', 1, 1, 'ehr-a'],
      ['workforce', 2, 2, 'ehr-a'],
      ['patients', 3, 1, 'ehr-a'],
    ]);
    expect(typeof body.loads[0]?.loadedAt).toBe('string');
    expect(res.body).not.toMatch(/Zephyrine|MRN/);
  });

  it('refuses requests without a key, with an unknown key, or with an auditor key', async () => {
    for (const key of [null, 'phia_nope', AUDITOR]) {
      const res = await post('patients', { records: [patient(1)] }, key);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json().error.code).toBe('REFERENCE_UNAUTHORIZED');
      expect((await list(key)).statusCode).toBe(401);
    }
    expect(await loadsOf('clinic-a')).toEqual([]);
  });

  it('takes the tenant from the key: a body cannot name another tenant, and tenants see only their loads', async () => {
    const res = await post('patients', { tenant: 'clinic-b', records: [patient(1)] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'REFERENCE_INVALID_BODY' });
    expect(res.json().error.message).toMatch(/unknown field "tenant".*the tenant comes from the key/);
    expect(await loadsOf('clinic-b')).toEqual([]);
    expect((await post('patients', { records: [patient(1)] }, KEY_B)).json()).toMatchObject({ tenant: 'clinic-b' });
    expect((await list(KEY_A)).json()).toEqual({ tenant: 'clinic-a', version: 0, loads: [] });
    expect(await loadsOf('clinic-a')).toEqual([]);
  });

  it('rejects a load with one bad record among 1,000, naming it by index and path, storing nothing', async () => {
    const records = Array.from({ length: 1000 }, (_, i) => patient(i));
    records[537] = { ...patient(537), birthDate: 'Zephyrine-secret' };
    const res = await post('patients', { records });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('REFERENCE_INVALID_RECORDS');
    expect(error.message).toBe('1 problem in 1 of 1000 patients records; nothing was stored');
    expect(error.problems).toEqual([{ index: 537, path: 'birthDate', message: expect.any(String) }]);
    expect(res.body).not.toContain('Zephyrine-secret');
    expect(await loadsOf('clinic-a')).toEqual([]);
  });

  it('checks every record and caps the problems listed at 100', async () => {
    const records = Array.from({ length: 150 }, (_, i) => ({ ...member(i), status: 'retired' }));
    const { error } = (await post('workforce', { records })).json();
    expect(error.problems).toHaveLength(100);
    expect(error.moreProblems).toBe(50);
    expect(error.problems[99]).toMatchObject({ index: 99, path: 'status' });
  });

  it('rejects a load repeating a key', async () => {
    const res = await post('patients', { records: [patient(1), patient(2), { ...patient(1), givenName: 'B' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.problems).toEqual([
      { index: 2, path: 'id', message: 'repeats the key of record 0 in this load' },
    ]);
    const rel = { patientId: 'MRN1', userId: 'u1', kind: 'appointment', validFrom: 1, validTo: 2 };
    const dup = await post('relationships', { records: [rel, { ...rel }] });
    expect(dup.json().error.problems).toEqual([
      { index: 1, path: '', message: 'repeats the key of record 0 in this load' },
    ]);
    expect(await loadsOf('clinic-a')).toEqual([]);
  });

  it('names unknown fields, rejecting rather than dropping them', async () => {
    const res = await post('patients', { records: [{ ...patient(1), nickname: 'Zephyrine' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.problems).toEqual([{ index: 0, path: 'nickname', message: 'unknown field' }]);
    expect(res.body).not.toContain('Zephyrine');
  });

  it('answers each malformed body with a clear 4xx and stores nothing', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [{}, 400, 'REFERENCE_INVALID_BODY', /records is missing/],
      [{ records: { 0: patient(1) } }, 400, 'REFERENCE_INVALID_BODY', /records is not an array/],
      [{ records: [] }, 400, 'REFERENCE_INVALID_BODY', /records is empty/],
      [[patient(1)], 400, 'REFERENCE_INVALID_BODY', /not a JSON object/],
      ['"records"', 400, 'REFERENCE_INVALID_BODY', /not a JSON object/],
      ['{"records": [', 400, 'REFERENCE_INVALID_BODY', /not valid JSON/],
      ['', 400, 'REFERENCE_INVALID_BODY', /the body is empty/],
      ['{"__proto__": {"x": 1}, "records": []}', 400, 'REFERENCE_INVALID_BODY', /__proto__/],
      [
        `{"records": [${'{"id":"MRN1","constructor":{"prototype":{}}}'}]}`,
        400,
        'REFERENCE_INVALID_BODY',
        /constructor/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await post('patients', body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(res.json().error.message).toMatch(message);
    }
    expect(await loadsOf('clinic-a')).toEqual([]);
  });

  it('refuses more than 100,000 records', async () => {
    const res = await post(
      'relationships',
      `{"records":[${Array(MAX_RECORDS + 1)
        .fill('{}')
        .join(',')}]}`,
    );
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: 'REFERENCE_TOO_MANY_RECORDS' });
    expect(res.json().error.message).toMatch(/100001 records .* at most 100000/);
  });

  it('refuses a body over 64 MiB with 413', async () => {
    const res = await post('patients', `{"records":[${' '.repeat(REFERENCE_BODY_LIMIT)}]}`);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('REFERENCE_BODY_TOO_LARGE');
  });

  it('404s an unknown kind, naming the kinds', async () => {
    const res = await post('appointments', { records: [patient(1)] });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'REFERENCE_UNKNOWN_KIND' });
    expect(res.json().error.message).toMatch(/patients, workforce, relationships/);
  });

  it('415s anything but JSON, and compressed bodies', async () => {
    for (const type of ['text/csv', 'application/x-ndjson', 'application/json; charset=latin1']) {
      const res = await post('patients', { records: [patient(1)] }, KEY_A, type);
      expect(res.statusCode, type).toBe(415);
      expect(res.json().error.code).toBe('REFERENCE_UNSUPPORTED_MEDIA_TYPE');
    }
    const gz = await app.inject({
      method: 'POST',
      url: '/v1/reference/patients',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: '{}',
    });
    expect(gz.statusCode).toBe(415);
    expect(await loadsOf('clinic-a')).toEqual([]);
  });

  it('answers 503 when the store fails, and when there is no store', async () => {
    await store.close();
    const failed = await post('patients', { records: [patient(1)] });
    expect(failed.statusCode).toBe(503);
    expect(failed.json().error.code).toBe('REFERENCE_STORE_UNAVAILABLE');
    expect((await list()).statusCode).toBe(503);

    const bare = await appFor(undefined);
    try {
      const res = await bare.inject({
        method: 'POST',
        url: '/v1/reference/patients',
        headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ records: [patient(1)] }),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('REFERENCE_NOT_CONFIGURED');
      expect(res.json().error.message).toMatch(/reference data needs the detection store.*set CLICKHOUSE_URL/);
      const get = await bare.inject({
        method: 'GET',
        url: '/v1/reference',
        headers: { authorization: `Bearer ${KEY_A}` },
      });
      expect(get.statusCode).toBe(503);
      // Still default deny: no key, no answer about the configuration.
      expect((await bare.inject({ method: 'GET', url: '/v1/reference' })).statusCode).toBe(401);
    } finally {
      await bare.close();
    }
  });
});
