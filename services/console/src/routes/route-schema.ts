import type {
  FastifyError,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  FastifySchemaCompiler,
  FastifySerializerCompiler,
} from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteErrorBody } from './route-errors.js';

/**
 * Route options that put a data route's zod schemas into fastify's `schema` (so /docs/json
 * describes its parameters, query, body and answers) while keeping the answers of the
 * handler-side validation they replace: 400 `{ error: { code: 'CONSOLE_INVALID_REQUEST',
 * message: 'invalid request: query.limit: …; …' } }`, naming fields and zod's messages, never
 * values. The compilers are set per route, so a route group works on any fastify instance
 * (the console's `/api` scope, or a bare test app).
 */

/** The error body of the console's answers: the routes' own (no requestId) and the session check's (with one). */
export const ROUTE_ERROR_BODY_SCHEMA = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string().optional() }),
});

const PART_NAMES: Readonly<Record<string, string>> = { querystring: 'query', params: 'params', body: 'body' };

interface ZodValidationIssue {
  instancePath: string;
  message?: string;
}

/** The message parseOrReject gave for the same issues: `invalid request: <part>.<path>: <message>; …`. */
function invalidRequestMessage(part: string, issues: readonly ZodValidationIssue[]): string {
  const where = PART_NAMES[part] ?? part;
  const detail = issues
    .map((i) => {
      const path = i.instancePath.split('/').filter((s) => s !== '');
      return `${[where, ...path].join('.')}: ${i.message ?? 'invalid'}`;
    })
    .join('; ');
  return `invalid request: ${detail}`;
}

/**
 * Answers a failed schema validation as the routes always did; any other error goes on to the
 * console scope's error handler (rethrown).
 */
function routeErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!hasZodFastifySchemaValidationErrors(error)) throw error;
  const body: RouteErrorBody = {
    error: {
      code: 'CONSOLE_INVALID_REQUEST',
      message: invalidRequestMessage(error.validationContext ?? 'request', error.validation),
    },
  };
  return reply.code(400).send(body);
}

/** Route options validating with `schema` (zod) and answering failures with CONSOLE_INVALID_REQUEST. */
export function zodRouteOptions<S extends FastifySchema>(schema: S) {
  return {
    schema,
    // The zod compilers are typed for one zod schema; fastify types them per route schema object.
    validatorCompiler: validatorCompiler as unknown as FastifySchemaCompiler<S>,
    serializerCompiler: serializerCompiler as unknown as FastifySerializerCompiler<S>,
    errorHandler: routeErrorHandler,
  };
}
