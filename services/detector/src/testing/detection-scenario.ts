import type { Alert, Patient, TreatmentRelationship, WorkforceMember } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';

/**
 * One small clinic day for detection tests: reference data in which a user and a patient share
 * surname and address (family), a user is also a patient (self-access), a user was terminated
 * (inactive-user), and a user has a treatment relationship with the patient she opens (benign).
 * Events are on a recent weekday at 14:00 UTC (09:00–10:00 in America/New_York: business
 * hours), so the collector's event-age limit accepts them.
 */

const HOME = { line: '12 Elm Street', city: 'Springfield', state: 'MA', postalCode: '01101' };
const ELSEWHERE = { line: '99 Oak Avenue', city: 'Springfield', state: 'MA', postalCode: '01102' };
const OTHER = { line: '5 Pine Road', city: 'Shelbyville', state: 'MA', postalCode: '01200' };

/** 14:00 UTC of the latest weekday at least two days before `now`. */
export function scenarioDay(now: number = Date.now()): number {
  const d = new Date(now - 2 * 86_400_000);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() - 1);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 14, 0, 0);
}

/** The day every scenario function uses by default (fixed when the module loads). */
export const SCENARIO_DAY_START = scenarioDay();
const HIRED = Date.UTC(2020, 0, 1);

export function scenarioWorkforce(): WorkforceMember[] {
  return [
    {
      userId: 'u-lopez',
      givenName: 'Maria',
      familyName: 'Lopez',
      displayName: 'Dr. Maria Lopez',
      address: HOME,
      role: 'physician',
      department: 'cardiology',
      status: 'active',
      hiredAt: HIRED,
    },
    {
      userId: 'u-chen',
      givenName: 'Wei',
      familyName: 'Chen',
      address: ELSEWHERE,
      role: 'nurse',
      department: 'oncology',
      status: 'active',
      hiredAt: HIRED,
    },
    {
      userId: 'u-gone',
      givenName: 'Pat',
      familyName: 'Doyle',
      address: OTHER,
      role: 'clerk',
      department: 'billing',
      status: 'terminated',
      hiredAt: HIRED,
      terminatedAt: Date.UTC(2025, 0, 31),
    },
    {
      userId: 'u-kim',
      givenName: 'Ana',
      familyName: 'Kim',
      address: OTHER,
      role: 'physician',
      department: 'primary-care',
      status: 'active',
      hiredAt: HIRED,
    },
  ];
}

export function scenarioPatients(): Patient[] {
  const patient = (id: string, givenName: string, familyName: string, address: typeof HOME, extra = {}): Patient => ({
    id,
    givenName,
    familyName,
    address,
    birthDate: '1970-05-05',
    vip: false,
    confidential: false,
    ...extra,
  });
  return [
    // Lives with Dr. Lopez and shares her surname.
    patient('p-lopez-jr', 'Carlos', 'Lopez', HOME),
    // Wei Chen, the nurse, is also a patient.
    patient('p-chen', 'Wei', 'Chen', ELSEWHERE, { workforceUserId: 'u-chen' }),
    patient('p-ross', 'Gina', 'Ross', { line: '1 Main St', city: 'Springfield', state: 'MA', postalCode: '01103' }),
    patient('p-baker', 'Tom', 'Baker', { line: '7 Hill Rd', city: 'Springfield', state: 'MA', postalCode: '01104' }),
  ];
}

export function scenarioRelationships(day = SCENARIO_DAY_START): TreatmentRelationship[] {
  return [
    // Dr. Kim sees Gina Ross today: her access is expected.
    {
      sourceId: 'appt-1',
      patientId: 'p-ross',
      userId: 'u-kim',
      kind: 'appointment',
      validFrom: day - 3_600_000,
      validTo: day + 8 * 3_600_000,
    },
  ];
}

let counter = 0;

/** An access event of the scenario; `eventId` unique unless given. */
export function scenarioEvent(
  tenant: string,
  userId: string,
  patientId: string,
  minutesIntoDay: number,
  eventId = `ev-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`,
  day = SCENARIO_DAY_START,
): AccessEvent {
  const occurredAt = day + minutesIntoDay * 60_000;
  return {
    eventId,
    tenant,
    occurredAt,
    receivedAt: occurredAt + 1_000,
    source: { system: 'ehr-test' },
    actor: { userId },
    patient: { id: patientId },
    action: 'view',
    resource: { type: 'Patient' },
    outcome: 'success',
  };
}

/**
 * The scenario's events: family (Lopez → Lopez Jr), self-access (Chen → own record),
 * inactive-user (terminated Doyle → Baker) and a benign related access (Kim → Ross).
 */
export function scenarioEvents(tenant: string, idPrefix: string): AccessEvent[] {
  return [
    scenarioEvent(tenant, 'u-lopez', 'p-lopez-jr', 0, `${idPrefix}-family`),
    scenarioEvent(tenant, 'u-chen', 'p-chen', 5, `${idPrefix}-self`),
    scenarioEvent(tenant, 'u-gone', 'p-baker', 10, `${idPrefix}-inactive`),
    scenarioEvent(tenant, 'u-kim', 'p-ross', 15, `${idPrefix}-benign`),
  ];
}

/** The events as an EHR posts them to /v1/events (tenant and source come from the ingest key). */
export function scenarioIngestBody(events: readonly AccessEvent[]): string {
  return JSON.stringify(
    events.map((e) => ({
      eventId: e.eventId,
      occurredAt: new Date(e.occurredAt).toISOString(),
      actor: e.actor,
      patient: e.patient,
      action: e.action,
      resource: e.resource,
      outcome: e.outcome,
    })),
  );
}

/** Alerts as comparable data: sorted by id. */
export function sortedAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort((a, b) => (a.alertId < b.alertId ? -1 : 1));
}
