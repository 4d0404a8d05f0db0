import { z } from 'zod';
import { RECORD_COLUMNS } from './record-columns.js';

/**
 * The console's access queries ("who looked at this patient's record?", "what did this user
 * look at?"), shared by both stores: types, limits, the validation each store runs before a
 * query reaches SQL, and the mapping of result columns to AccessRow. No I/O.
 */

/** One access as the console shows it. Optional fields are absent when the event had none. */
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
  /** Absent for an event that concerns no patient (a login). */
  patientId?: string;
  action: string;
  resourceType: string;
  outcome: string;
}

/** Largest page a per-patient or per-user query returns. */
export const MAX_ACCESS_QUERY_LIMIT = 10_000;

/** What both access queries share: one tenant, an optional event-time window, a page size. */
interface AccessQueryBase {
  tenant: string;
  /** Inclusive lower bound on the event time, epoch ms. */
  from?: number | undefined;
  /** Exclusive upper bound on the event time, epoch ms. */
  to?: number | undefined;
  /** 1 … MAX_ACCESS_QUERY_LIMIT. */
  limit: number;
}

/** Accesses to one patient's record within a tenant. */
export interface AccessesByPatientQuery extends AccessQueryBase {
  patientId: string;
}

/** Accesses by one user within a tenant. */
export interface AccessesByUserQuery extends AccessQueryBase {
  userId: string;
}

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
/** Every console query schema checkAccessQuery validates against. */
export type AccessQuerySchema =
  typeof AccessesByPatientQuerySchema | typeof AccessesByUserQuerySchema | typeof AccessVolumeQuerySchema;

export type CheckedAccessQuery<Q> = { ok: true; query: Q } | { ok: false; message: string; error: z.ZodError };

/**
 * Validates a console query against `schema`. Not ok, with a message naming the bad fields
 * (not their values), for a malformed one; the store turns that into its invalid-value error.
 */
export function checkAccessQuery<S extends AccessQuerySchema>(
  schema: S,
  input: unknown,
): CheckedAccessQuery<z.infer<S>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, query: parsed.data as z.infer<S> };
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ');
  return { ok: false, message: `invalid access query: ${detail}`, error: parsed.error };
}

/** Columns an access query selects (both stores name them alike). */
export const ACCESS_ROW_COLUMNS = ['log', 'idx', 'source_offset', ...RECORD_COLUMNS] as const;

/** A result row of an access query, numbers as numbers ('' for an absent optional field). */
export type AccessRowColumns = {
  [K in (typeof ACCESS_ROW_COLUMNS)[number]]: K extends 'idx' | 'source_offset' | 'occurred_ms' | 'received_ms'
    ? number
    : string;
};

/** Maps a result row to an AccessRow; '' optional columns become absent. */
export function accessRowFromColumns(r: AccessRowColumns): AccessRow {
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
    ...(r.patient_id !== '' ? { patientId: r.patient_id } : {}),
    action: r.action,
    resourceType: r.resource_type,
    outcome: r.outcome,
  };
}

/**
 * The read side the console's investigation screens need. Both return newest first
 * (event time descending, then origin and index ascending), at most `limit` rows, and throw
 * the store's invalid-value error for a malformed query.
 */
export interface AccessQueryStore {
  accessesByPatient(query: AccessesByPatientQuery): Promise<AccessRow[]>;
  accessesByUser(query: AccessesByUserQuery): Promise<AccessRow[]>;
}

/** Bucket widths of the access-volume query: an hour or a UTC day. */
export const ACCESS_VOLUME_BUCKETS = { hour: 3_600_000, day: 86_400_000 } as const;
export type AccessVolumeBucket = keyof typeof ACCESS_VOLUME_BUCKETS;
/** Most buckets one volume query may span (a year of days, or 90 days of hours). */
export const MAX_ACCESS_VOLUME_BUCKETS = 2_200;

/** Access volume of one tenant over an event-time window (the console dashboard's chart). */
export interface AccessVolumeQuery {
  tenant: string;
  /** Inclusive lower bound on event time, epoch ms; rounded down to the bucket. */
  from: number;
  /** Exclusive upper bound on event time, epoch ms. */
  to: number;
  bucket: AccessVolumeBucket;
}

export const AccessVolumeQuerySchema = z
  .strictObject({
    tenant: idString('tenant'),
    from: epochMs,
    to: epochMs,
    bucket: z.enum(['hour', 'day']),
  })
  .refine((q) => q.to > q.from, { message: 'to must be after from', path: ['to'] })
  .refine((q) => (q.to - q.from) / ACCESS_VOLUME_BUCKETS[q.bucket] <= MAX_ACCESS_VOLUME_BUCKETS, {
    message: `the window spans more than ${MAX_ACCESS_VOLUME_BUCKETS} buckets`,
    path: ['bucket'],
  }) satisfies z.ZodType<AccessVolumeQuery>;

/**
 * One bucket: its start (epoch ms, a multiple of the bucket width, i.e. aligned to UTC) and
 * the tenant's events with event time in [start, start + width): all of them, those with
 * outcome `failure`, and the distinct users among them. Console audit events (source system
 * `phi-audit-console`) are counted like any other: they are accesses too.
 */
export interface AccessVolumeBucketRow {
  start: number;
  events: number;
  failures: number;
  users: number;
}

/**
 * The dashboard's read side. Returns only buckets that hold events, start ascending; throws the
 * store's invalid-value error for a malformed query (AccessVolumeQuerySchema).
 */
export interface AccessVolumeStore {
  accessVolume(query: AccessVolumeQuery): Promise<AccessVolumeBucketRow[]>;
}
