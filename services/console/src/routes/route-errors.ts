import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { isConsoleAuditError } from '@phi-audit/console-audit';

/**
 * The error answers of the console's data routes: `{ error: { code, message } }`, the shape the
 * collector uses. Messages name fields and codes, never values (ids and reasons are PHI).
 */

/** Stable codes the routes answer with (besides the audit trail's own). */
export const ROUTE_ERROR_CODES = {
  /** A path parameter, query parameter or body field is malformed; the message names it. */
  CONSOLE_INVALID_REQUEST: 'CONSOLE_INVALID_REQUEST',
  /** The thing named is not the tenant's (or does not exist): the answer does not say which. */
  CONSOLE_NOT_FOUND: 'CONSOLE_NOT_FOUND',
} as const;
export type RouteErrorCode = keyof typeof ROUTE_ERROR_CODES;

/** The body of every error answer. */
export interface RouteErrorBody {
  error: { code: string; message: string };
}

function send(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: RouteErrorBody = { error: { code, message } };
  return reply.code(status).send(body);
}

/** Parses `value` with `schema`; on failure answers 400 naming the bad fields and returns undefined. */
export function parseOrReject<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'params' | 'query' | 'body',
  reply: FastifyReply,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
  void send(reply, 400, 'CONSOLE_INVALID_REQUEST', `invalid request: ${detail}`);
  return undefined;
}

/** 404 that names nothing: an id of another tenant is neither confirmed nor denied. */
export function sendNotFound(reply: FastifyReply): FastifyReply {
  return send(reply, 404, 'CONSOLE_NOT_FOUND', 'not found');
}

/**
 * Answers a failed audit record (the ledger did not acknowledge: 503; a console bug: 500) and
 * returns true, or returns false for any other error so the caller rethrows it. Nothing of the
 * data read for the request is sent either way.
 */
export function sendAuditFailure(reply: FastifyReply, error: unknown): boolean {
  if (!isConsoleAuditError(error)) return false;
  void send(reply, error.statusCode, error.code, error.message);
  return true;
}
