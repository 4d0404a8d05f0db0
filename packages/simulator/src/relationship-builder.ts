import type { Action } from '@phi-audit/schema';
import type { LocalCalendar } from './local-time.js';
import type { FacilityProfile } from './profiles.js';
import type { Random } from './random.js';
import type { Roster } from './roster.js';
import type {
  Patient,
  PlannedAccess,
  RelationshipKind,
  Role,
  TreatmentRelationship,
  WorkforceMember,
} from './reference-data.js';

const DAY_MS = 86_400_000;
/** Access is expected from a day before the encounter (pre-charting) to two weeks after (billing, coding). */
export const ACCESS_LEAD_MS = DAY_MS;
export const ACCESS_TAIL_MS = 14 * DAY_MS;
/** Share of accesses that fail (time-outs, locked records, validation errors). */
const FAILURE_RATE = 0.004;

/** What planning one day needs; the accesses and relationships it collects. */
export interface PlanContext {
  profile: FacilityProfile;
  calendar: LocalCalendar;
  random: Random;
  roster: Roster;
  day: number;
  /** Relationships opened so far today; numbers their ids. */
  opened: number;
  accesses: PlannedAccess[];
  relationships: TreatmentRelationship[];
}

/** Details of one access beyond who, when and what. */
export interface AccessDetails {
  resourceId?: string;
  purposeOfUse?: string;
  reason?: string;
  recordCount?: number;
  /** Only the member already working on this encounter in that role may act (e.g. sign their own note). */
  sticky?: boolean;
}

/** Records the accesses of one encounter and the relationship that explains them. */
export interface RelationshipBuilder {
  readonly id: string;
  readonly patient: Patient;
  readonly start: number;
  /**
   * The member of `department`/`role` on duty at `at` (preferring whoever of that role already
   * works on this encounter) makes the access; undefined, and nothing recorded, when nobody is.
   */
  act(
    department: string,
    role: Role,
    at: number,
    action: Action,
    resourceType: string,
    details?: AccessDetails,
  ): WorkforceMember | undefined;
  /** Puts `member` on the encounter for their department and role (e.g. the scheduled physician). */
  assign(member: WorkforceMember): void;
  /** A new resource id of this encounter, e.g. for a note or an order. */
  newResourceId(resourceType: string): string;
  /** Ends the encounter at `end` and adds its relationship to the plan. */
  close(end: number): TreatmentRelationship;
}

const PURPOSE: Partial<Record<string, string>> = { billing: 'HPAYMT', him: 'HOPERAT' };

/** Opens an encounter of `kind` for `patient` owned by `department`, starting at `start`. */
export function openRelationship(
  ctx: PlanContext,
  options: { kind: RelationshipKind; patient: Patient; department: string; start: number },
): RelationshipBuilder {
  ctx.opened += 1;
  const id = `${options.kind === 'appointment' ? 'A' : options.kind === 'ed_visit' ? 'E' : 'I'}${ctx.day}-${ctx.opened}`;
  const careTeam = new Set<string>();
  const departments = new Set<string>();
  const current = new Map<string, WorkforceMember>();
  let resources = 0;
  let closed = false;

  const builder: RelationshipBuilder = {
    id,
    patient: options.patient,
    start: options.start,
    act(department, role, at, action, resourceType, details = {}) {
      if (closed) throw new Error(`relationship ${id} is closed`);
      const key = `${department}/${role}`;
      let member = current.get(key);
      if (!member || !ctx.roster.isOnDuty(member, at)) {
        if (details.sticky) return undefined;
        let onDuty = ctx.roster.onDuty(department, role, at);
        // Staff who are patients are treated by colleagues, never put on their own care team.
        const self = options.patient.workforceUserId;
        if (self !== undefined) onDuty = onDuty.filter((m) => m.userId !== self);
        if (onDuty.length === 0) return undefined;
        member = ctx.random.pick(onDuty);
        current.set(key, member);
      }
      if (department === options.department) careTeam.add(member.userId);
      else departments.add(department);
      const access: PlannedAccess = {
        at: Math.round(at),
        userId: member.userId,
        patientId: options.patient.id,
        action,
        resourceType,
        outcome: ctx.random.chance(FAILURE_RATE) ? 'failure' : 'success',
        purposeOfUse: details.purposeOfUse ?? PURPOSE[department] ?? 'TREAT',
        basis: { kind: 'relationship', relationshipId: id },
      };
      const resourceId =
        details.resourceId ??
        (resourceType === 'Patient' ? options.patient.id : resourceType === 'Encounter' ? id : undefined);
      if (resourceId !== undefined) access.resourceId = resourceId;
      if (details.reason !== undefined) access.reason = details.reason;
      if (details.recordCount !== undefined) access.recordCount = details.recordCount;
      ctx.accesses.push(access);
      return member;
    },
    assign(member) {
      if (member.userId === options.patient.workforceUserId) {
        throw new Error(`relationship ${id}: a member cannot be on their own care team`);
      }
      current.set(`${member.department}/${member.role}`, member);
    },
    newResourceId(resourceType) {
      resources += 1;
      return `${id}.${resourceType.replace(/[a-z]/g, '').toLowerCase()}${resources}`;
    },
    close(end) {
      closed = true;
      const relationship: TreatmentRelationship = {
        id,
        kind: options.kind,
        patientId: options.patient.id,
        department: options.department,
        start: options.start,
        end,
        careTeam: [...careTeam],
        departments: [...departments],
        accessFrom: options.start - ACCESS_LEAD_MS,
        accessTo: end + ACCESS_TAIL_MS,
      };
      ctx.relationships.push(relationship);
      return relationship;
    },
  };
  return builder;
}

export const MINUTE_MS = 60_000;
