import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, createConsoleFixture, type ConsoleFixture } from '../testing/console-fixture.js';
import { openSqliteConsoleStores, type SqliteConsoleStores } from '../testing/sqlite-console-stores.js';
import { registerConsoleRoutes } from './index.js';

// The data routes validate through their fastify `schema`: the OpenAPI document describes them,
// and inside the whole console (its own error handler) a bad query still gets the routes' 400.
let f: ConsoleFixture;
let stores: SqliteConsoleStores;

beforeAll(async () => {
  stores = openSqliteConsoleStores('console-docs-');
  const { detection, ledger } = stores;
  const audit = createConsoleAuditTrail({ publish: stores.append });
  f = await createConsoleFixture({
    routes: (api) => {
      registerConsoleRoutes(api, { detection, ledger, audit });
      return Promise.resolve();
    },
  });
});
afterAll(async () => {
  await f.close();
  await stores.close();
});

async function openApi(): Promise<OpenAPIV3.Document> {
  const res = await f.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  return res.json<OpenAPIV3.Document>();
}

const paramNames = (op: OpenAPIV3.OperationObject | undefined, where: string): string[] =>
  ((op?.parameters ?? []) as OpenAPIV3.ParameterObject[])
    .filter((p) => p.in === where)
    .map((p) => p.name)
    .sort();

describe('OpenAPI document of the data routes', () => {
  it('lists the path and query parameters of the alert list', async () => {
    const list = (await openApi()).paths['/api/tenants/{tenant}/alerts']?.get;
    expect(paramNames(list, 'path')).toEqual(['tenant']);
    expect(paramNames(list, 'query')).toEqual(
      ['from', 'limit', 'minSeverity', 'offset', 'patient', 'rule', 'sort', 'status', 'to', 'user'].sort(),
    );
    expect(list?.responses['200']).toBeDefined();
  });

  it('describes the search, the access report, the evidence body and the ledger status', async () => {
    const { paths } = await openApi();
    expect(paramNames(paths['/api/tenants/{tenant}/accesses']?.get, 'query')).toContain('cursor');
    expect(paramNames(paths['/api/tenants/{tenant}/patients/{patientId}/access-report']?.get, 'path')).toEqual([
      'patientId',
      'tenant',
    ]);
    const evidence = paths['/api/tenants/{tenant}/evidence']?.post?.requestBody as OpenAPIV3.RequestBodyObject;
    const schema = evidence.content['application/json']?.schema as OpenAPIV3.SchemaObject;
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(['eventIds', 'from', 'patientId', 'to', 'userId']);
    expect(paths['/api/tenants/{tenant}/ledger-status']?.get?.responses['200']).toBeDefined();
  });
});

describe('validation inside the console', () => {
  it('answers a bad query with the routes` 400 body, not the console scope`s', async () => {
    const session = await f.login('privacy_officer');
    const res = await f.app.inject({
      method: 'GET',
      url: '/api/tenants/tenant-a/alerts?limit=5000&colour=red',
      headers: authHeaders(session),
    });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('CONSOLE_INVALID_REQUEST');
    expect(body.error.message).toMatch(/^invalid request: /);
    expect(body.error.message).toContain('query');
  });

  it('still checks the session before validating (401 without one)', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/api/tenants/tenant-a/alerts?limit=5000' });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('CONSOLE_UNAUTHENTICATED');
  });
});
