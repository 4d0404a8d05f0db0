import { mayAccessTenant, type AccountStore } from '@phi-audit/console-accounts';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ConsoleApiError } from './errors.js';
import type { RouteAccess } from './route-access.js';
import { CSRF_HEADER, sessionTokenOf } from './session-cookie.js';

/** Methods that change state: they need the session's CSRF token besides the cookie. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A registered console route as the access check sees it (collected for the role × endpoint matrix). */
export interface ConsoleRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

/** The access a route declares; throws CONSOLE_ROUTE_WITHOUT_ACCESS when it declares none or an unusable one. */
function declaredAccess(route: RouteOptions): RouteAccess {
  const access = (route.config as { access?: RouteAccess } | undefined)?.access;
  const where = `${String(route.method)} ${route.url}`;
  if (access === undefined) {
    throw new ConsoleApiError('CONSOLE_ROUTE_WITHOUT_ACCESS', `console route ${where} declares no config.access`);
  }
  if ('roles' in access) {
    if (access.roles.length === 0) {
      throw new ConsoleApiError('CONSOLE_ROUTE_WITHOUT_ACCESS', `console route ${where} allows no role`);
    }
    if (access.tenantScoped === true && !route.url.includes(':tenant')) {
      throw new ConsoleApiError(
        'CONSOLE_ROUTE_WITHOUT_ACCESS',
        `console route ${where} is tenant-scoped without :tenant`,
      );
    }
  }
  return access;
}

/**
 * Default deny, at registration: every route registered in `scope` (and its children) after
 * this call must declare `config.access`, or registration fails and the app does not start.
 * `onRegistered` sees each route (the matrix test lists them from it).
 */
export function requireDeclaredAccess(scope: FastifyInstance, onRegistered?: (route: ConsoleRoute) => void): void {
  scope.addHook('onRoute', (route) => {
    const access = declaredAccess(route);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) onRegistered?.({ method, url: route.url, access });
  });
}

/**
 * Default deny, per request: public routes pass; every other one needs a live session (401),
 * a role the route allows (403), the `:tenant` of the URL among the user's tenants (404, so
 * other tenants are not confirmed) and, for unsafe methods, the session's CSRF token (403).
 * Runs before the body is parsed. Sets `request.principal`.
 */
export function checkAccessOnRequest(scope: FastifyInstance, accounts: AccountStore): void {
  // Promise-returning (not async): the check itself is synchronous; a throw becomes the rejection.
  scope.addHook('onRequest', (request: FastifyRequest) =>
    Promise.resolve().then(() => checkRequest(request, accounts)),
  );
}

function checkRequest(request: FastifyRequest, accounts: AccountStore): void {
  const access = request.routeOptions.config.access;
  // Unmatched URLs carry no access: the not-found handler answers, nothing is served.
  if (access === undefined || 'public' in access) return;
  const token = sessionTokenOf(request);
  const session = token === undefined ? undefined : accounts.session(token);
  if (token === undefined || session === undefined) {
    throw new ConsoleApiError('CONSOLE_UNAUTHENTICATED', 'log in first: no session, or the session has ended');
  }
  const { user } = session;
  if (!access.roles.includes(user.role)) {
    throw new ConsoleApiError('CONSOLE_FORBIDDEN', `the ${user.role} role may not do this`);
  }
  if (access.tenantScoped === true) {
    const tenant = (request.params as Record<string, unknown> | undefined)?.tenant;
    if (typeof tenant !== 'string' || !mayAccessTenant(user, tenant)) {
      throw new ConsoleApiError('CONSOLE_NOT_FOUND', 'no such tenant');
    }
  }
  if (UNSAFE_METHODS.has(request.method)) {
    const csrf = request.headers[CSRF_HEADER];
    if (typeof csrf !== 'string' || !session.checkCsrf(csrf)) {
      throw new ConsoleApiError('CONSOLE_CSRF', `send the CSRF token returned at login in the ${CSRF_HEADER} header`);
    }
  }
  request.principal = { username: user.username, role: user.role, tenants: user.tenants, ip: request.ip };
}
