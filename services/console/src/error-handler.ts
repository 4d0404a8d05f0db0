import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ConsoleApiError } from './errors.js';

/** Any error as the catalogue answers it; messages of foreign errors are never sent (they can quote input). */
function toConsoleApiError(error: unknown): ConsoleApiError {
  if (error instanceof ConsoleApiError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    // Paths only: the values (a password, say) stay out of the answer and the log.
    const fields = [...new Set(error.validation.map((v) => v.instancePath || '/'))].slice(0, 10);
    return new ConsoleApiError('CONSOLE_BAD_REQUEST', `invalid request at ${fields.join(', ')}`, { cause: error });
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ConsoleApiError('CONSOLE_BAD_REQUEST', 'the request is malformed', { cause: error });
  }
  return new ConsoleApiError('CONSOLE_INTERNAL', 'internal error; the request was not completed', { cause: error });
}

/**
 * The console scope's one error handler: `{ error: { code, message, requestId } }`. Logs code
 * and status; for 5xx the cause's type and stack, never a body.
 */
export function setConsoleErrorHandler(scope: FastifyInstance): void {
  scope.setErrorHandler((error, request, reply) => {
    const e = toConsoleApiError(error);
    if (e.statusCode >= 500) {
      const cause = e.cause instanceof Error ? e.cause : e;
      request.log.error({ code: e.code, err: { type: cause.name, stack: cause.stack } }, 'console request failed');
    } else {
      request.log.info({ code: e.code, status: e.statusCode }, 'console request rejected');
    }
    void reply.code(e.statusCode).headers(e.headers).send(e.toBody(request.id));
  });
}

/** The catalogue's 404 for unknown URLs under the console API prefix. */
export function setConsoleNotFoundHandler(scope: FastifyInstance): void {
  scope.setNotFoundHandler((request, reply) => {
    const e = new ConsoleApiError('CONSOLE_NOT_FOUND', 'no such console route');
    void reply.code(e.statusCode).send(e.toBody(request.id));
  });
}
