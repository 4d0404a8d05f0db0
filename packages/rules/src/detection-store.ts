import { createHash } from 'node:crypto';
import type { Alert, Severity } from './alert.js';
import {
  PatientSchema,
  TreatmentRelationshipSchema,
  WorkforceMemberSchema,
  type Patient,
  type ReferenceData,
  type TreatmentRelationship,
  type WorkforceMember,
} from './reference-data.js';

/**
 * What the detector and the reference-data API need from a store: versioned reference data
 * and alerts upserted by id. Both stores implement it (SQLite: `<data>/detection.sqlite`, a
 * file of its own so the ledger file stays append-only; ClickHouse: tables next to the
 * ledger). No I/O here.
 */

export const REFERENCE_KINDS = ['patients', 'workforce', 'relationships'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

export interface ReferenceRecordOf {
  patients: Patient;
  workforce: WorkforceMember;
  relationships: TreatmentRelationship;
}
export type ReferenceRecord = ReferenceRecordOf[ReferenceKind];

/** The zod schema of one record of each kind. */
export const REFERENCE_RECORD_SCHEMAS = {
  patients: PatientSchema,
  workforce: WorkforceMemberSchema,
  relationships: TreatmentRelationshipSchema,
} as const;

/**
 * The identity of a reference record within its kind and tenant: a later version of a record
 * with the same key replaces it. Patients by `id`, workforce by `userId`; a relationship by its
 * source id, patient and user or department when it has a source id (an appointment moved to
 * another time replaces the old one), otherwise by its whole content (loading it twice is
 * harmless).
 */
export function referenceKey(kind: ReferenceKind, record: ReferenceRecord): string {
  if (kind === 'patients') return (record as Patient).id;
  if (kind === 'workforce') return (record as WorkforceMember).userId;
  const r = record as TreatmentRelationship;
  const parts =
    r.sourceId !== undefined
      ? ['s', r.sourceId, r.patientId, r.userId ?? '', r.departmentId ?? '']
      : ['c', r.patientId, r.userId ?? '', r.departmentId ?? '', r.kind, String(r.validFrom), String(r.validTo)];
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${Buffer.byteLength(p)}:${p};`);
  return hash.digest('hex');
}

/** One load of reference records: what `putReference` returns and `referenceLoads` lists. */
export interface ReferenceLoad {
  tenant: string;
  kind: ReferenceKind;
  /** Positive, strictly increasing per tenant (across kinds) within one store. */
  version: number;
  /** Records in this load. */
  count: number;
  /** Who loaded it, e.g. the ingest key's source system or `import:<file name>`; never PHI. */
  source: string;
  /** Epoch ms. */
  loadedAt: number;
}

/** Filters for listing alerts; every given field must match. Days are the alerts' local days. */
export interface AlertQuery {
  tenant: string;
  fromDay?: string;
  toDay?: string;
  ruleId?: string;
  userId?: string;
  patientId?: string;
  minSeverity?: Severity;
  /** Default 1000, at most 10,000. Ordered by day descending, then risk descending, then alertId. */
  limit?: number;
}

export interface DetectionStore {
  /**
   * Stores `records` (already validated) of one kind as a new version of the tenant's reference
   * data, all or nothing. Each record replaces the current record of the same `referenceKey`;
   * records not in the load stay as they are. Earlier versions stay stored.
   */
  putReference<K extends ReferenceKind>(
    tenant: string,
    kind: K,
    records: readonly ReferenceRecordOf[K][],
    meta: { source: string; loadedAt: number },
  ): Promise<ReferenceLoad>;
  /**
   * The tenant's reference data as of `asOfVersion` (default: the latest): per kind and key, the
   * record of the highest version ≤ it. `version` is that version (0 when nothing is loaded).
   */
  referenceData(tenant: string, options?: { asOfVersion?: number }): Promise<{ version: number; data: ReferenceData }>;
  /** The latest reference version of each tenant that has one (cheap; the detector polls it). */
  referenceVersions(): Promise<Map<string, number>>;
  /** Every load of the tenant, ascending version. */
  referenceLoads(tenant: string): Promise<ReferenceLoad[]>;
  /**
   * Upserts alerts by `alertId`: each is merged (mergeAlert) with the stored alert of the same id,
   * so writing the same alert twice, or two partial states of it in any order, converges.
   */
  upsertAlerts(alerts: readonly Alert[]): Promise<void>;
  /** One alert of the tenant, merged as stored. */
  alert(tenant: string, alertId: string): Promise<Alert | undefined>;
  alerts(query: AlertQuery): Promise<Alert[]>;
  close(): Promise<void>;
}

/** Where a ledger-tailing detector has got to: per log origin, the next index to read. */
export interface DetectorCursorStore {
  cursor(name: string): Promise<Map<string, number>>;
  /** Replaces the stored positions of `name` for the given origins. */
  saveCursor(name: string, positions: ReadonlyMap<string, number>): Promise<void>;
}
