import {
  MAX_ACCESS_QUERY_LIMIT,
  type AccessesByPatientQuery,
  type AccessesByUserQuery,
  type AccessRow,
} from '@phi-audit/ledger';
import { z } from 'zod';
import { StoreError } from './errors.js';

/**
 * Validation of the console's access queries before they reach SQL, and the mapping of
 * result rows. Twin of store-clickhouse's access-queries.ts (AccessesBy*QuerySchema,
 * parseAccessQuery, accessRowFromText).
 */

const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const idString = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} must be at most 256 characters`)
    .refine((s) => s.isWellFormed(), `${what} contains an unpaired UTF-16 surrogate`);

const base = {
  tenant: idString('tenant'),
  from: epochMs.optional(),
  to: epochMs.optional(),
  limit: z.number().int().min(1).max(MAX_ACCESS_QUERY_LIMIT, `limit must be at most ${MAX_ACCESS_QUERY_LIMIT}`),
};

export const AccessesByPatientQuerySchema = z.strictObject({
  ...base,
  patientId: idString('patientId'),
}) satisfies z.ZodType<AccessesByPatientQuery>;
export const AccessesByUserQuerySchema = z.strictObject({
  ...base,
  userId: idString('userId'),
}) satisfies z.ZodType<AccessesByUserQuery>;

/** Validates a console query, naming the bad fields (not their values). Throws STORE_INVALID_VALUE. */
export function parseAccessQuery<S extends typeof AccessesByPatientQuerySchema | typeof AccessesByUserQuerySchema>(
  schema: S,
  input: unknown,
): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ');
    throw new StoreError('STORE_INVALID_VALUE', `invalid access query: ${detail}`, { cause: parsed.error });
  }
  return parsed.data as z.infer<S>;
}

/** Columns an access query selects. */
export const ACCESS_QUERY_COLUMNS = [
  'log',
  'idx',
  'source_offset',
  'event_id',
  'tenant',
  'occurred_ms',
  'received_ms',
  'source_system',
  'user_id',
  'user_role',
  'user_department',
  'workstation',
  'patient_id',
  'action',
  'resource_type',
  'outcome',
] as const;

/** A row of an access query as SQLite returns it. */
export type AccessQueryRow = {
  [K in (typeof ACCESS_QUERY_COLUMNS)[number]]: K extends 'idx' | 'source_offset' | 'occurred_ms' | 'received_ms'
    ? number
    : string;
};

/** Maps a stored row to an AccessRow; '' optional columns become absent. */
export function accessRowFromRow(r: AccessQueryRow): AccessRow {
  return {
    origin: r.log,
    index: r.idx,
    sourceOffset: r.source_offset,
    eventId: r.event_id,
    tenant: r.tenant,
    occurredAt: r.occurred_ms,
    receivedAt: r.received_ms,
    sourceSystem: r.source_system,
    userId: r.user_id,
    ...(r.user_role !== '' ? { userRole: r.user_role } : {}),
    ...(r.user_department !== '' ? { userDepartment: r.user_department } : {}),
    ...(r.workstation !== '' ? { workstation: r.workstation } : {}),
    patientId: r.patient_id,
    action: r.action,
    resourceType: r.resource_type,
    outcome: r.outcome,
  };
}
