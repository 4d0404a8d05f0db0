import { ROLES, type AccountStore } from '@phi-audit/console-accounts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConsoleApiError } from './errors.js';
import { principalOf, type RouteAccess } from './route-access.js';
import { sessionCookieOptions, SESSION_COOKIE, sessionTokenOf } from './session-cookie.js';

const ANY_ROLE: RouteAccess = { roles: ROLES };

/** The console's error answer, as documented in OpenAPI. */
export const ERROR_BODY_SCHEMA = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }),
});

const LOGIN_BODY = z
  .object({
    username: z.string().min(1).max(64),
    // An upper bound keeps scrypt's input (and the cost of a hostile request) small.
    password: z.string().min(1).max(1024),
  })
  .strict();

const ME_SCHEMA = z.object({
  username: z.string(),
  role: z.enum(ROLES),
  tenants: z.array(z.string()).describe('The tenants the user may see; ["*"] = every tenant (admins only)'),
  expiresAt: z.iso.datetime().describe('When the session ends if unused (idle or absolute timeout, the earlier)'),
});

const LOGIN_RESPONSE = ME_SCHEMA.extend({
  csrfToken: z
    .string()
    .describe('Send it in the x-csrf-token header of every POST/PUT/PATCH/DELETE. Returned only here, at login.'),
});

const LOGIN_FAILED = 'wrong username or password';

/**
 * The session routes: log in (public), who am I, log out; and the user's tenants. Mounted under
 * the console's `/api` prefix.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: { accounts: AccountStore }): void {
  const { accounts } = deps;
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/session',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['session'],
        summary: 'Log in: sets the session cookie and returns the CSRF token',
        body: LOGIN_BODY,
        response: { 200: LOGIN_RESPONSE, 400: ERROR_BODY_SCHEMA, 401: ERROR_BODY_SCHEMA, 429: ERROR_BODY_SCHEMA },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const result = await accounts.login({ username, password, ip: request.ip });
      if (!result.ok) {
        if (result.reason === 'throttled') {
          const seconds = Math.max(1, Math.ceil((result.retryAfterMs ?? 1000) / 1000));
          throw new ConsoleApiError('CONSOLE_LOGIN_THROTTLED', `too many failed logins; try again in ${seconds} s`, {
            headers: { 'retry-after': String(seconds) },
          });
        }
        // A disabled account answers like a wrong password: nothing tells which accounts exist.
        throw new ConsoleApiError('CONSOLE_LOGIN_FAILED', LOGIN_FAILED);
      }
      const { session, user } = result;
      void reply.setCookie(SESSION_COOKIE, session.token, sessionCookieOptions(request));
      request.log.info({ role: user.role }, 'console login');
      return {
        username: user.username,
        role: user.role,
        tenants: user.tenants,
        expiresAt: new Date(session.expiresAt).toISOString(),
        csrfToken: session.csrfToken,
      };
    },
  );

  api.get(
    '/session',
    {
      config: { access: ANY_ROLE },
      schema: {
        tags: ['session'],
        summary: 'The logged-in user and when the session ends (the CSRF token is returned only at login)',
        response: { 200: ME_SCHEMA, 401: ERROR_BODY_SCHEMA },
      },
    },
    (request) => {
      const me = principalOf(request);
      const token = sessionTokenOf(request);
      // The access check just found it live; session() again reads the slid idle deadline.
      const session = token === undefined ? undefined : accounts.session(token);
      if (session === undefined) throw new ConsoleApiError('CONSOLE_UNAUTHENTICATED', 'the session has ended');
      return {
        username: me.username,
        role: me.role,
        tenants: [...me.tenants],
        expiresAt: new Date(session.expiresAt).toISOString(),
      };
    },
  );

  api.delete(
    '/session',
    {
      config: { access: ANY_ROLE },
      schema: {
        tags: ['session'],
        summary: 'Log out: ends the session and clears the cookie',
        response: { 204: z.null(), 401: ERROR_BODY_SCHEMA, 403: ERROR_BODY_SCHEMA },
      },
    },
    async (request, reply) => {
      const token = sessionTokenOf(request);
      if (token !== undefined) accounts.logout(token);
      void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(request));
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/tenants',
    {
      config: { access: ANY_ROLE },
      schema: {
        tags: ['session'],
        summary: 'The tenants the user may see (["*"] = every tenant, admins only)',
        response: { 200: z.object({ tenants: z.array(z.string()) }), 401: ERROR_BODY_SCHEMA },
      },
    },
    (request) => ({ tenants: [...principalOf(request).tenants] }),
  );
}
