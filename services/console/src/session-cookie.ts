import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';

/** The session cookie's name. Its value is the session token: never logged, never in a body. */
export const SESSION_COOKIE = 'phi_console';

/** The header unsafe methods must carry: the CSRF token returned by `POST /api/session`. */
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The cookie's attributes: not readable by scripts, never sent cross-site, Secure whenever the
 * request came over https. No Expires: the server enforces the idle and absolute timeouts and a
 * browser drops the cookie when it closes.
 */
export function sessionCookieOptions(request: FastifyRequest): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' };
}

/** The session token of a request, if it carries one. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const token = request.cookies[SESSION_COOKIE];
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}
