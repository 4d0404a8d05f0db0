import { orderImaging, orderMedication, closeOut } from './ancillary-flows.js';
import { MINUTE_MS, openRelationship, type PlanContext } from './relationship-builder.js';
import type { Patient, WorkforceMember } from './reference-data.js';

/**
 * Scheduled outpatient appointments: every office physician working today sees a patient every
 * 15–30 minutes, 08:00–12:00 and 13:00–16:45, with some no-shows. Each visit: the front desk
 * checks the patient in, a medical assistant or nurse takes vitals, the physician reviews the
 * chart, writes and signs a note and places orders, the after-visit summary is printed, and
 * billing files the claim.
 */
export function planOutpatientDay(ctx: PlanContext, patients: readonly Patient[]): void {
  const { random } = ctx;
  const physicians = ctx.roster
    .shiftsStarting(ctx.day)
    .filter(
      (s) =>
        s.member.role === 'physician' &&
        s.member.shift === 'office' &&
        ctx.profile.outpatientDepartments.includes(s.member.department),
    );
  for (const { member, start } of physicians) {
    const sessions: [number, number][] = [
      [start, start + 4 * 60 * MINUTE_MS],
      [start + 5 * 60 * MINUTE_MS, start + (8 * 60 + 45) * MINUTE_MS],
    ];
    for (const [from, until] of sessions) {
      let slot = from;
      while (slot < until) {
        const minutes = random.pick([15, 15, 20, 30]);
        if (!random.chance(0.08)) {
          const patient = random.pick(patients);
          // A physician does not book themselves: the slot stays empty.
          if (patient.workforceUserId !== member.userId) outpatientVisit(ctx, member, patient, slot, minutes);
        }
        slot += minutes * MINUTE_MS;
      }
    }
  }
}

function outpatientVisit(
  ctx: PlanContext,
  physician: WorkforceMember,
  patient: Patient,
  start: number,
  minutes: number,
): void {
  const { random } = ctx;
  const dept = physician.department;
  const rel = openRelationship(ctx, { kind: 'appointment', patient, department: dept, start });
  rel.assign(physician);
  const at = (offsetMinutes: number): number => start + offsetMinutes * MINUTE_MS + random.int(50_000);

  const checkIn = at(-random.between(0, 10));
  rel.act(dept, 'front_desk', checkIn, 'view', 'Patient');
  if (random.chance(0.5)) rel.act(dept, 'front_desk', checkIn + 40_000, 'view', 'Coverage');
  if (random.chance(0.25)) rel.act(dept, 'front_desk', checkIn + 90_000, 'update', 'Patient');
  rel.act(dept, 'front_desk', checkIn + 120_000, 'update', 'Appointment', { resourceId: `${rel.id}.appt` });

  const intakeRole = random.chance(0.7) ? 'medical_assistant' : 'nurse';
  const intake = at(random.between(1, 5));
  const intakeBy =
    rel.act(dept, intakeRole, intake, 'view', 'Patient') ?? rel.act(dept, 'nurse', intake, 'view', 'Patient');
  if (intakeBy) {
    rel.act(dept, intakeBy.role, intake + 3 * MINUTE_MS, 'create', 'Observation', {
      resourceId: rel.newResourceId('Observation'),
    });
    rel.act(dept, intakeBy.role, intake + 5 * MINUTE_MS, 'view', 'MedicationStatement');
    if (random.chance(0.3)) rel.act(dept, intakeBy.role, intake + 6 * MINUTE_MS, 'view', 'AllergyIntolerance');
  }

  // The scheduled physician sees the patient and signs the note; nobody else does it for them.
  const review = at(random.between(6, 10));
  rel.act(dept, 'physician', review, 'view', 'Encounter');
  rel.act(dept, 'physician', review + 20_000, 'view', 'DocumentReference');
  rel.act(dept, 'physician', review + 60_000, 'view', 'Observation');
  if (random.chance(0.5)) rel.act(dept, 'physician', review + 90_000, 'view', 'DiagnosticReport');
  const note = rel.newResourceId('DocumentReference');
  const writing = at(minutes - random.between(1, 4));
  rel.act(dept, 'physician', writing, 'create', 'DocumentReference', { resourceId: note });
  if (random.chance(0.45)) orderMedication(ctx, rel, dept, writing + 60_000);
  if (random.chance(0.35)) {
    rel.act(dept, 'physician', writing + 90_000, 'create', 'ServiceRequest', {
      resourceId: rel.newResourceId('ServiceRequest'),
    });
  }
  if (random.chance(0.05)) orderImaging(ctx, rel, dept, writing + 100_000);
  const end = start + minutes * MINUTE_MS;
  if (random.chance(0.7)) {
    rel.act(
      dept,
      random.chance(0.5) ? 'front_desk' : 'medical_assistant',
      end + random.int(120_000),
      'print',
      'DocumentReference',
      {
        resourceId: note,
      },
    );
  }
  rel.act(dept, 'physician', end + random.between(5, 45) * MINUTE_MS, 'update', 'DocumentReference', {
    resourceId: note,
    sticky: true,
  });
  closeOut(ctx, rel, end, { code: false });
  rel.close(end);
}
