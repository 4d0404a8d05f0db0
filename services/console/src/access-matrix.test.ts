import { ROLES, type Role } from '@phi-audit/console-accounts';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleRoute } from './access-control.js';
import { buildConsoleApp } from './console-app.js';
import { createConsoleLogger } from './console-logger.js';
import { isConsoleApiError } from './errors.js';
import { principalOf, type RouteAccess } from './route-access.js';
import { registerConsoleRoutes } from './routes/index.js';
import { authHeaders, createConsoleFixture, type ConsoleFixture } from './testing/console-fixture.js';
import { openSqliteConsoleStores, type SqliteConsoleStores } from './testing/sqlite-console-stores.js';

/** Probe routes with every shape of access the contract allows, beside the real session routes. */
async function probeRoutes(api: FastifyInstance): Promise<void> {
  const probes: [string, string, RouteAccess][] = [
    ['GET', '/probe/admin-only', { roles: ['admin'] }],
    ['POST', '/probe/officers', { roles: ['admin', 'privacy_officer'] }],
    ['GET', '/probe/auditor', { roles: ['auditor'] }],
    ['GET', '/tenants/:tenant/probe', { roles: ROLES, tenantScoped: true }],
    ['PUT', '/tenants/:tenant/probe', { roles: ['admin', 'privacy_officer', 'investigator'], tenantScoped: true }],
  ];
  for (const [method, url, access] of probes) {
    api.route({ method, url, config: { access }, handler: async (request) => ({ who: principalOf(request).role }) });
  }
}

/** A concrete URL for a route pattern: our tenant for :tenant, a real asset for wildcards. */
function concreteUrl(url: string): string {
  return url
    .replace(':tenant', 'tenant-a')
    .replace(/:[A-Za-z]+/g, 'x')
    .replace(/\*$/, 'index.html');
}

let f: ConsoleFixture;
let stores: SqliteConsoleStores;
beforeAll(async () => {
  // The real feature routes too, on real (empty) stores: the matrix covers every route the console serves.
  stores = openSqliteConsoleStores('console-matrix-');
  const { detection, ledger } = stores;
  const audit = createConsoleAuditTrail({ publish: stores.append });
  f = await createConsoleFixture({
    routes: async (api) => {
      await probeRoutes(api);
      registerConsoleRoutes(api, { detection, ledger, audit });
    },
  });
});
afterAll(async () => {
  await f.close();
  await stores.close();
});

describe('role × endpoint matrix (default deny)', () => {
  it('covers the session routes, the probes, /healthz and the OpenAPI routes', () => {
    const seen = new Set(f.routes.map((r) => `${r.method} ${r.url}`));
    for (const r of ['POST /api/session', 'GET /api/session', 'DELETE /api/session', 'GET /api/tenants']) {
      expect(seen).toContain(r);
    }
    expect(seen).toContain('GET /healthz');
    expect(seen).toContain('GET /docs/json');
    expect(seen).toContain('PUT /api/tenants/:tenant/probe');
    for (const r of [
      'GET /api/tenants/:tenant/alerts',
      'GET /api/tenants/:tenant/alerts/summary',
      'GET /api/tenants/:tenant/alerts/:alertId',
      'POST /api/tenants/:tenant/alerts/:alertId/decisions',
      'POST /api/tenants/:tenant/alerts/decisions',
      'GET /api/tenants/:tenant/accesses',
      'GET /api/tenants/:tenant/accesses.csv',
      'GET /api/tenants/:tenant/patients/:patientId/access-report',
    ]) {
      expect(seen).toContain(r);
    }
  });

  it('anonymous: 401 on every non-public route, never 401/403 on public ones', async () => {
    for (const route of f.routes) {
      const res = await f.app.inject({ method: route.method as 'GET', url: concreteUrl(route.url) });
      const label = `${route.method} ${route.url} → ${res.statusCode}`;
      if ('public' in route.access) expect([401, 403], label).not.toContain(res.statusCode);
      else {
        expect(res.statusCode, label).toBe(401);
        if (route.method !== 'HEAD') expect(res.json().error.code, label).toBe('CONSOLE_UNAUTHENTICATED');
      }
    }
  });

  it('every role: 403 exactly where the route excludes it, otherwise through the check', async () => {
    const nonPublic = f.routes.filter(
      (r): r is ConsoleRoute & { access: { roles: readonly Role[] } } => 'roles' in r.access,
    );
    expect(nonPublic.length).toBeGreaterThanOrEqual(8);
    for (const role of ROLES) {
      for (const route of nonPublic) {
        // A fresh session each time: DELETE /api/session ends the one it is sent with.
        const session = await f.login(role);
        const res = await f.app.inject({
          method: route.method as 'GET',
          url: concreteUrl(route.url),
          headers: authHeaders(session),
        });
        const label = `${role} ${route.method} ${route.url} → ${res.statusCode}`;
        if (route.access.roles.includes(role)) expect([401, 403], label).not.toContain(res.statusCode);
        else {
          expect(res.statusCode, label).toBe(403);
          if (route.method !== 'HEAD') expect(res.json().error.code, label).toBe('CONSOLE_FORBIDDEN');
        }
      }
    }
  });

  it('a route registered without config.access stops the app from starting', async () => {
    const building = buildConsoleApp({
      accounts: f.accounts,
      logger: createConsoleLogger({ level: 'silent' }),
      routes: async (api) => {
        api.get('/forgot-access', async () => ({ leaked: true }));
      },
    });
    await expect(building).rejects.toSatisfy((e) => isConsoleApiError(e, 'CONSOLE_ROUTE_WITHOUT_ACCESS'));
  });

  it('a tenant-scoped route without :tenant stops the app from starting', async () => {
    const building = buildConsoleApp({
      accounts: f.accounts,
      logger: createConsoleLogger({ level: 'silent' }),
      routes: async (api) => {
        api.get('/scoped', { config: { access: { roles: ['admin'], tenantScoped: true } } }, async () => ({}));
      },
    });
    await expect(building).rejects.toSatisfy((e) => isConsoleApiError(e, 'CONSOLE_ROUTE_WITHOUT_ACCESS'));
  });
});

describe('tenant isolation', () => {
  it("a privacy officer of tenant-a gets 404 for tenant-b's URLs, 200 for its own", async () => {
    const po = await f.login('privacy_officer');
    const own = await f.app.inject({ method: 'GET', url: '/api/tenants/tenant-a/probe', headers: authHeaders(po) });
    expect(own.statusCode).toBe(200);
    for (const method of ['GET', 'PUT'] as const) {
      const other = await f.app.inject({ method, url: '/api/tenants/tenant-b/probe', headers: authHeaders(po) });
      expect(other.statusCode).toBe(404);
      expect(other.json().error.code).toBe('CONSOLE_NOT_FOUND');
    }
    // The wildcard is not a tenant: nobody reaches it through the URL.
    const star = await f.app.inject({ method: 'GET', url: '/api/tenants/*/probe', headers: authHeaders(po) });
    expect(star.statusCode).toBe(404);
  });

  it('an admin holding * reaches any tenant', async () => {
    const admin = await f.login('admin');
    const res = await f.app.inject({ method: 'GET', url: '/api/tenants/tenant-b/probe', headers: authHeaders(admin) });
    expect(res.statusCode).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('GET /docs/json lists the console routes', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths['/api/session'] ?? {}).sort()).toEqual(['delete', 'get', 'post']);
    expect(doc.paths['/api/tenants']).toBeDefined();
    expect(doc.paths['/api/tenants/{tenant}/probe']).toBeDefined();
    expect(JSON.stringify(doc.paths['/api/session']?.post)).toContain('password');
  });

  it('serves the UI at /docs', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });
});
