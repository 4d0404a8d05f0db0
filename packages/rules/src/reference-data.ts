import { TZDate } from '@date-fns/tz';
import { CodedError } from '@phi-audit/schema';
import { format } from 'date-fns';
import { z } from 'zod';

/**
 * One tenant's reference data (DESIGN.md "The event": events carry identifiers, reference data
 * carries names, addresses, flags, employment status and care relationships). Field names follow
 * `packages/simulator/src/reference-data.ts` where the simulator has the field. Instants are UTC
 * epoch milliseconds; calendar dates are local `YYYY-MM-DD`.
 */

const id = z.string().min(1);
const epochMs = z.number().int().nonnegative();
const isoDate = z.iso.date();

export const AddressSchema = z.strictObject({
  line: z.string().trim().min(1),
  city: z.string().trim().min(1),
  state: z.string().trim().min(1),
  postalCode: z.string().trim().min(1),
});
export type Address = z.infer<typeof AddressSchema>;

export const PatientSchema = z.strictObject({
  /** Medical record number; the events' `patient.id`. */
  id,
  givenName: z.string().min(1),
  familyName: z.string().min(1),
  /** Optional: patients without one never match the family or neighbour rules. */
  address: AddressSchema.optional(),
  birthDate: isoDate,
  deathDate: isoDate.optional(),
  /** A public figure. */
  vip: z.boolean().default(false),
  /** A restricted record (the simulator's `restricted`). */
  confidential: z.boolean().default(false),
  /** Set when the patient is a member of the workforce. */
  workforceUserId: id.optional(),
});
export type Patient = z.infer<typeof PatientSchema>;

export const WorkforceStatusSchema = z.enum(['active', 'inactive', 'terminated']);

export const WorkforceMemberSchema = z
  .strictObject({
    /** The events' `actor.userId`. */
    userId: id,
    givenName: z.string().min(1),
    familyName: z.string().min(1),
    /** How the EHR shows the user ("Dr. Maria Lopez"), for explanations. */
    displayName: z.string().min(1).optional(),
    address: AddressSchema.optional(),
    role: id,
    department: id,
    /** A shift named in the tenant's policy; otherwise the department's or role's applies. */
    shift: id.optional(),
    status: WorkforceStatusSchema,
    hiredAt: epochMs,
    terminatedAt: epochMs.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.status === 'terminated' && m.terminatedAt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['terminatedAt'], message: 'required when status is "terminated"' });
    }
    if (m.terminatedAt !== undefined && m.terminatedAt < m.hiredAt) {
      ctx.addIssue({ code: 'custom', path: ['terminatedAt'], message: 'before hiredAt' });
    }
  });
export type WorkforceMember = z.infer<typeof WorkforceMemberSchema>;

export const RelationshipKindSchema = z.enum(['appointment', 'encounter', 'care_team', 'other']);
export type RelationshipKind = z.infer<typeof RelationshipKindSchema>;

/** A patient related to one user or one department, for `[validFrom, validTo)`. */
export const TreatmentRelationshipSchema = z
  .strictObject({
    /** The source system's id (appointment, encounter), for explanations. */
    sourceId: id.optional(),
    patientId: id,
    userId: id.optional(),
    departmentId: id.optional(),
    kind: RelationshipKindSchema,
    validFrom: epochMs,
    validTo: epochMs,
  })
  .superRefine((r, ctx) => {
    if ((r.userId === undefined) === (r.departmentId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'exactly one of userId and departmentId is required' });
    }
    if (r.validTo < r.validFrom) {
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'before validFrom' });
    }
  });
export type TreatmentRelationship = z.infer<typeof TreatmentRelationshipSchema>;

export const ReferenceDataSchema = z
  .strictObject({
    patients: z.array(PatientSchema).default([]),
    workforce: z.array(WorkforceMemberSchema).default([]),
    relationships: z.array(TreatmentRelationshipSchema).default([]),
  })
  .superRefine((data, ctx) => {
    // Dangling references are allowed: patients, workforce and relationships may be loaded apart.
    const duplicates = (key: 'patients' | 'workforce', items: readonly string[]): void => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item)) ctx.addIssue({ code: 'custom', path: [key, i], message: `duplicate id "${item}"` });
        seen.add(item);
      });
    };
    duplicates(
      'patients',
      data.patients.map((p) => p.id),
    );
    duplicates(
      'workforce',
      data.workforce.map((m) => m.userId),
    );
  });
export type ReferenceData = z.infer<typeof ReferenceDataSchema>;
export type ReferenceDataInput = z.input<typeof ReferenceDataSchema>;

/** Thrown by {@link parseReferenceData}; `problems` lists every problem, each with its path. */
export class ReferenceDataError extends CodedError<'RULES_INVALID_REFERENCE_DATA'> {
  override readonly name = 'ReferenceDataError';
  constructor(readonly problems: readonly string[]) {
    super(
      'RULES_INVALID_REFERENCE_DATA',
      `invalid reference data:\n${problems
        .slice(0, 50)
        .map((p) => `  - ${p}`)
        .join('\n')}${problems.length > 50 ? `\n  … and ${problems.length - 50} more` : ''}`,
    );
  }
}

/** Validates reference data, reporting every problem at once. Messages name paths and ids, never names. */
export function parseReferenceData(input: unknown): ReferenceData {
  const parsed = ReferenceDataSchema.safeParse(input, { reportInput: false });
  if (!parsed.success) {
    throw new ReferenceDataError(parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`));
  }
  return parsed.data;
}

/** Read-only O(1) lookups over one tenant's reference data. */
export interface ReferenceIndex {
  patient(id: string): Patient | undefined;
  member(userId: string): WorkforceMember | undefined;
  /** The patient record of a workforce member, if they are a patient (self-access). */
  patientOfMember(userId: string): Patient | undefined;
  /** The workforce user a patient is, if any. */
  workforceUserIdOfPatient(patientId: string): string | undefined;
  /** The name explanations use for a user: display name, else given and family name. */
  displayNameOfUser(userId: string): string | undefined;
  /** Relationships of the patient with the user valid at `at`. */
  userRelationships(patientId: string, userId: string, at: number): readonly TreatmentRelationship[];
  /** Relationships of the patient with the department valid at `at`. */
  departmentRelationships(patientId: string, departmentId: string, at: number): readonly TreatmentRelationship[];
}

const NONE: readonly TreatmentRelationship[] = Object.freeze([]);

/**
 * Indexes parsed reference data. The records are frozen; relationship lookups cost one map
 * access plus a scan of that one pair's relationships, which stays short.
 */
export function createReferenceIndex(data: ReferenceData): ReferenceIndex {
  const patients = new Map<string, Patient>();
  const members = new Map<string, WorkforceMember>();
  const patientsOfMembers = new Map<string, Patient>();
  const byUser = new Map<string, TreatmentRelationship[]>();
  const byDepartment = new Map<string, TreatmentRelationship[]>();
  for (const p of data.patients) {
    const frozen = freezeRecord(p);
    patients.set(p.id, frozen);
    if (p.workforceUserId !== undefined) patientsOfMembers.set(p.workforceUserId, frozen);
  }
  for (const m of data.workforce) members.set(m.userId, freezeRecord(m));
  for (const r of data.relationships) {
    const frozen = Object.freeze({ ...r });
    const [map, other] = r.userId !== undefined ? [byUser, r.userId] : [byDepartment, r.departmentId ?? ''];
    const key = pairKey(r.patientId, other);
    const list = map.get(key);
    if (list) list.push(frozen);
    else map.set(key, [frozen]);
  }
  const validAt = (list: readonly TreatmentRelationship[] | undefined, at: number) => {
    if (list === undefined) return NONE;
    const valid = list.filter((r) => r.validFrom <= at && at < r.validTo);
    return valid.length === 0 ? NONE : Object.freeze(valid);
  };
  return Object.freeze({
    patient: (id: string) => patients.get(id),
    member: (userId: string) => members.get(userId),
    patientOfMember: (userId: string) => patientsOfMembers.get(userId),
    workforceUserIdOfPatient: (patientId: string) => patients.get(patientId)?.workforceUserId,
    displayNameOfUser: (userId: string) => {
      const m = members.get(userId);
      return m === undefined ? undefined : (m.displayName ?? `${m.givenName} ${m.familyName}`);
    },
    userRelationships: (patientId: string, userId: string, at: number) =>
      validAt(byUser.get(pairKey(patientId, userId)), at),
    departmentRelationships: (patientId: string, departmentId: string, at: number) =>
      validAt(byDepartment.get(pairKey(patientId, departmentId)), at),
  });
}

// Ids never contain NUL, so the pair key is unambiguous.
function pairKey(patientId: string, other: string): string {
  return `${patientId}\u0000${other}`;
}

function freezeRecord<T extends { address?: Address | undefined }>(record: T): T {
  if (record.address) Object.freeze(record.address);
  return Object.freeze(record);
}

/** The parts of the simulator's reference data {@link fromSimulator} reads (structural, no import). */
export interface SimulatorReferenceData {
  timeZone: string;
  patients: readonly {
    id: string;
    givenName: string;
    familyName: string;
    address: Address;
    birthDate: string;
    deceasedAt?: number;
    vip: boolean;
    restricted: boolean;
    workforceUserId?: string;
  }[];
  workforce: readonly {
    userId: string;
    givenName: string;
    familyName: string;
    displayName: string;
    address: Address;
    role: string;
    department: string;
    shift: string;
    status: 'active' | 'terminated';
    hiredAt: number;
    terminatedAt?: number;
  }[];
  relationships: readonly {
    id: string;
    kind: 'appointment' | 'ed_visit' | 'admission';
    patientId: string;
    department: string;
    careTeam: readonly string[];
    departments: readonly string[];
    accessFrom: number;
    accessTo: number;
  }[];
}

/**
 * Converts a simulated facility's reference data (its patients, workforce, and the relationships
 * of the planned days) into this form: `deceasedAt` becomes a local `deathDate`, `restricted`
 * becomes `confidential`, ED visits and admissions become encounters, and each simulator
 * relationship becomes one per care-team user and one per related department, valid for its
 * access window.
 */
export function fromSimulator(source: SimulatorReferenceData): ReferenceData {
  const patients: Patient[] = source.patients.map((p) => ({
    id: p.id,
    givenName: p.givenName,
    familyName: p.familyName,
    address: p.address,
    birthDate: p.birthDate,
    ...(p.deceasedAt === undefined
      ? {}
      : { deathDate: format(new TZDate(p.deceasedAt, source.timeZone), 'yyyy-MM-dd') }),
    vip: p.vip,
    confidential: p.restricted,
    ...(p.workforceUserId === undefined ? {} : { workforceUserId: p.workforceUserId }),
  }));
  const workforce: WorkforceMember[] = source.workforce.map((m) => ({
    userId: m.userId,
    givenName: m.givenName,
    familyName: m.familyName,
    displayName: m.displayName,
    address: m.address,
    role: m.role,
    department: m.department,
    shift: m.shift,
    status: m.status,
    hiredAt: m.hiredAt,
    ...(m.terminatedAt === undefined ? {} : { terminatedAt: m.terminatedAt }),
  }));
  const relationships: TreatmentRelationship[] = [];
  for (const r of source.relationships) {
    const common = {
      sourceId: r.id,
      patientId: r.patientId,
      kind: r.kind === 'appointment' ? ('appointment' as const) : ('encounter' as const),
      validFrom: r.accessFrom,
      validTo: r.accessTo,
    };
    for (const userId of new Set(r.careTeam)) relationships.push({ ...common, userId });
    for (const departmentId of new Set([r.department, ...r.departments])) {
      relationships.push({ ...common, departmentId });
    }
  }
  return parseReferenceData({ patients, workforce, relationships });
}
