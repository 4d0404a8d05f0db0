import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { AccountStore } from '@phi-audit/console-accounts';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { checkAccessOnRequest, requireDeclaredAccess, type ConsoleRoute } from './access-control.js';
import { CONSOLE_UI_PREFIX, registerConsoleUi } from './console-ui.js';
import { ConsoleApiError } from './errors.js';
import { setConsoleErrorHandler, setConsoleNotFoundHandler } from './error-handler.js';
import { registerSessionRoutes } from './session-routes.js';

/** Where the console's JSON API lives, relative to the server root. */
export const CONSOLE_API_PREFIX = '/api';
/** Console requests are small forms and decisions; a larger body is refused before parsing. */
const CONSOLE_BODY_LIMIT = 256 * 1024;
/** Where the OpenAPI UI lives; the document itself is `/docs/json`. */
export const CONSOLE_DOCS_PREFIX = '/docs';

export interface ConsoleDeps {
  accounts: AccountStore;
  /**
   * More console routes (alerts, cases, …), registered under `/api` with the same contract:
   * each declares `config: { access }` and its zod schemas.
   */
  routes?: (api: FastifyInstance) => Promise<void>;
  /** Sees every console route as it is registered (the role × endpoint matrix test lists them). */
  onRoute?: (route: ConsoleRoute) => void;
  /** Adds a public `GET /healthz` (cluster mode; embedded mode has the collector's). */
  health?: boolean;
}

/**
 * The OpenAPI UI's routes (page, assets, document) and the web UI's static files are public by
 * nature (they hold no data; every API call they make is checked); mark them so.
 */
const PUBLIC_PREFIXES = [CONSOLE_DOCS_PREFIX, CONSOLE_UI_PREFIX];
function markStaticPublic(route: RouteOptions): void {
  const config = route.config as { access?: unknown } | undefined;
  const under = (prefix: string) => route.url === prefix || route.url.startsWith(`${prefix}/`);
  if (config?.access === undefined && PUBLIC_PREFIXES.some(under)) {
    route.config = { ...route.config, access: { public: true } };
  }
}

/**
 * Mounts the console on `app`: the JSON API under `/api`, its OpenAPI document and UI under
 * `/docs`, the web UI under `/console/` (and `/` redirecting there when free), in an
 * encapsulated scope with its own zod validation, error handler, session check and default deny
 * (a route without `config.access` fails registration). Embedded mode mounts it on the
 * collector's server; cluster mode on its own (buildConsoleApp).
 */
export async function registerConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    setConsoleErrorHandler(scope);
    // The host server may parse bodies its own way (the collector takes raw buffers): JSON here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: CONSOLE_BODY_LIMIT },
      scope.getDefaultJsonParser('error', 'error'),
    );
    // Before the access check: it reads the session cookie.
    await scope.register(fastifyCookie);
    scope.addHook('onRoute', markStaticPublic);
    requireDeclaredAccess(scope, deps.onRoute);
    checkAccessOnRequest(scope, deps.accounts);
    await scope.register(fastifySwagger, {
      openapi: {
        info: {
          title: 'phi-audit console API',
          version: '0.1.0',
          description:
            'Log in with POST /api/session: it sets the phi_console cookie (HttpOnly, SameSite=Strict) and ' +
            'returns a CSRF token to send in x-csrf-token on every POST, PUT, PATCH and DELETE.',
        },
        components: {
          securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'phi_console' } },
        },
      },
      transform: jsonSchemaTransform,
    });
    await scope.register(fastifySwaggerUi, { routePrefix: CONSOLE_DOCS_PREFIX });
    await registerConsoleUi(scope);
    await scope.register(
      async (api) => {
        setConsoleNotFoundHandler(api);
        registerSessionRoutes(api, { accounts: deps.accounts });
        if (deps.routes !== undefined) await deps.routes(api);
      },
      { prefix: CONSOLE_API_PREFIX },
    );
    if (deps.health === true) {
      scope.get('/healthz', { config: { access: { public: true } }, schema: { hide: true } }, (_request, reply) =>
        reply.send({ status: 'ok' }),
      );
    }
  });
}

export interface BuildConsoleAppOptions extends Omit<ConsoleDeps, 'health'> {
  /** A pino logger with the console's redaction (createConsoleLogger). */
  logger: FastifyBaseLogger;
  /** Trust X-Forwarded-* from a TLS-terminating proxy, so the cookie gets Secure. Default false. */
  trustProxy?: boolean;
}

/** Accept a caller's request id only when it is short and plain, so it is safe to log. */
function requestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(header) ? header : randomUUID();
}

/**
 * The standalone console server of cluster mode (not listening): the console plus `/healthz`.
 * Rejects with CONSOLE_ROUTE_WITHOUT_ACCESS when a route declares no access.
 */
export async function buildConsoleApp(options: BuildConsoleAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new ConsoleApiError('CONSOLE_NOT_FOUND', 'no such route');
    void reply.code(e.statusCode).send(e.toBody(request.id));
  });
  const { logger: _logger, trustProxy: _trustProxy, ...deps } = options;
  try {
    await registerConsole(app, { ...deps, health: true });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
