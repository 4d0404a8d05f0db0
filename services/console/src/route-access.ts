import type { Role } from '@phi-audit/console-accounts';
import type { FastifyRequest } from 'fastify';

/**
 * Who may call a console route. Every route declares one in `config.access`: the app refuses
 * to register a route without it (default deny), and the role × endpoint matrix test reads the
 * declarations. `public` routes (login, health, the OpenAPI document) need no session.
 */
export type RouteAccess =
  | { readonly public: true }
  | {
      /** Roles allowed; every other role gets 403. */
      readonly roles: readonly Role[];
      /**
       * When the URL has a `:tenant` parameter, the session's user must hold that tenant
       * (mayAccessTenant) or the answer is 404, so tenant ids of others are not confirmed.
       */
      readonly tenantScoped?: boolean;
    };

/** The authenticated console user of a request (set by the session check before the handler). */
export interface ConsolePrincipal {
  readonly username: string;
  readonly role: Role;
  readonly tenants: readonly string[];
  /** Client address, recorded in the console's audit events. */
  readonly ip: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Set for every non-public route before its handler runs. */
    principal?: ConsolePrincipal;
  }
}

/** The principal of a non-public route's request; throws if the session check did not run (a bug). */
export function principalOf(request: FastifyRequest): ConsolePrincipal {
  if (request.principal === undefined) throw new Error('route handler ran without a checked session');
  return request.principal;
}
