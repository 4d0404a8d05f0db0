/**
 * The console's access queries ("who looked at this patient's record?", "what did this user
 * look at?"), shared by both stores. Types and limits only: no I/O, no validation (each
 * store validates its input before it reaches SQL).
 */

/** One access as the console shows it. Optional actor fields are absent when the event had none. */
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

/**
 * The read side the console's investigation screens need. Both return newest first
 * (event time descending, then origin and index ascending), at most `limit` rows, and throw
 * the store's invalid-value error for a malformed query.
 */
export interface AccessQueryStore {
  accessesByPatient(query: AccessesByPatientQuery): Promise<AccessRow[]>;
  accessesByUser(query: AccessesByUserQuery): Promise<AccessRow[]>;
}
