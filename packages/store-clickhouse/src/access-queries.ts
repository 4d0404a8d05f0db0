import { z } from 'zod';
import { StoreError } from './errors.js';
import type { ACCESS_QUERY_COLUMNS } from './statements.js';

/** One access as the console shows it (from access_log or the per-user view). */
export interface AccessRow {
  origin: string;
  index: number;
  sourceOffset: number;
  eventId: string;
  tenant: string;
  /** Event time, epoch ms. */
  occurredAt: number;
  receivedAt: number;
  sourceSystem: string;
  userId: string;
  userRole?: string;
  userDepartment?: string;
  workstation?: string;
  patientId: string;
  action: string;
  resourceType: string;
  outcome: string;
}

/** Largest page a per-patient or per-user query returns. */
export const MAX_ACCESS_QUERY_LIMIT = 10_000;

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

export const AccessesByPatientQuerySchema = z.strictObject({ ...base, patientId: idString('patientId') });
export const AccessesByUserQuerySchema = z.strictObject({ ...base, userId: idString('userId') });
export type AccessesByPatientQuery = z.infer<typeof AccessesByPatientQuerySchema>;
export type AccessesByUserQuery = z.infer<typeof AccessesByUserQuerySchema>;

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

/** A row of an access query as the server returns it (every column as text). */
export type AccessRowText = Record<(typeof ACCESS_QUERY_COLUMNS)[number], string>;

/** Maps a stored row to an AccessRow; '' optional columns become absent. */
export function accessRowFromText(r: AccessRowText): AccessRow {
  return {
    origin: r.log,
    index: Number(r.idx),
    sourceOffset: Number(r.source_offset),
    eventId: r.event_id,
    tenant: r.tenant,
    occurredAt: Number(r.occurred_ms),
    receivedAt: Number(r.received_ms),
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
