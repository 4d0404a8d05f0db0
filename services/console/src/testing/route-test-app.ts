import type { Role } from '@phi-audit/console-accounts';
import Fastify, { type FastifyInstance } from 'fastify';

/**
 * A bare fastify app for testing console route plugins alone (tests only): the principal comes
 * from `x-test-role` / `x-test-user` headers and each route's declared roles are enforced (403),
 * standing in for the console's session check (tested in access-matrix.test.ts), so the routes'
 * own declarations are exercised. `register` adds the routes under `/api`, as registerConsole does.
 */
export async function createRouteTestApp(options: {
  tenants: readonly string[];
  defaultUser: string;
  register: (api: FastifyInstance) => void;
}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.addHook('preHandler', async (request, reply) => {
    const role = request.headers['x-test-role'] as Role;
    request.principal = {
      username: String(request.headers['x-test-user'] ?? options.defaultUser),
      role,
      tenants: options.tenants,
      ip: '127.0.0.1',
    };
    const access = request.routeOptions.config.access;
    if (access === undefined || 'public' in access || !access.roles.includes(role)) {
      await reply.code(403).send({ error: { code: 'TEST_FORBIDDEN', message: 'forbidden' } });
    }
  });
  await app.register(
    async (api) => {
      options.register(api);
    },
    { prefix: '/api' },
  );
  await app.ready();
  return app;
}
