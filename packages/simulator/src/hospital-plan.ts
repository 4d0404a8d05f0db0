import { closeOut, orderImaging, orderMedication } from './ancillary-flows.js';
import { isWeekday } from './local-time.js';
import { MINUTE_MS, openRelationship, type PlanContext } from './relationship-builder.js';
import type { Patient } from './reference-data.js';

const HOUR_MS = 60 * MINUTE_MS;
/** Relative ED arrivals per local hour: quiet before dawn, busiest late morning to evening. */
const ARRIVALS_BY_HOUR = [2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 6, 6.5, 6.5, 6, 6, 6, 6, 6, 6, 5.5, 5, 4.5, 4, 3.5, 2.5];
const BREAK_GLASS_REASONS = [
  'Emergency treatment: patient unable to consent',
  'Emergency care: chest pain work-up, restricted record',
  'Trauma evaluation in the ED',
];
/** Longest stay planned; accesses of a day's plan never run later than this plus billing. */
export const MAX_STAY_DAYS = 6;

/** The emergency department's visits of one day, and the admissions some of them lead to. */
export function planEmergencyDay(ctx: PlanContext, patients: readonly Patient[]): void {
  const [min, max] = ctx.profile.emergencyVisitsPerDay ?? [0, 0];
  const visits = ctx.random.between(min, max);
  for (let i = 0; i < visits; i++) {
    const minute = ctx.random.weighted(ARRIVALS_BY_HOUR) * 60 + ctx.random.int(60);
    emergencyVisit(ctx, ctx.random.pick(patients), ctx.calendar.instant(ctx.day, minute));
  }
}

/** Scheduled admissions (procedures, chemotherapy) on weekday mornings. */
export function planElectiveAdmissions(ctx: PlanContext, patients: readonly Patient[]): void {
  if (!isWeekday(ctx.day)) return;
  for (const [unit, count] of Object.entries(ctx.profile.electiveAdmissions ?? {})) {
    for (let i = 0; i < count; i++) {
      const start = ctx.calendar.instant(ctx.day, ctx.random.between(7 * 60, 10 * 60));
      admission(ctx, ctx.random.pick(patients), unit, start);
    }
  }
}

function emergencyVisit(ctx: PlanContext, patient: Patient, arrival: number): void {
  const { random } = ctx;
  const ed = 'emergency';
  const rel = openRelationship(ctx, { kind: 'ed_visit', patient, department: ed, start: arrival });
  const stay = random.between(120, 360) * MINUTE_MS;
  const end = arrival + stay;
  // A restricted record opens in the ED only through break-the-glass, with a reason.
  const breakGlass = (role: 'nurse' | 'physician', at: number): void => {
    if (!patient.restricted) return;
    rel.act(ed, role, at - 30_000, 'break_glass', 'Patient', {
      purposeOfUse: 'ETREAT',
      reason: random.pick(BREAK_GLASS_REASONS),
    });
  };

  rel.act(ed, 'front_desk', arrival, 'view', 'Patient');
  rel.act(ed, 'front_desk', arrival + 60_000, 'create', 'Encounter');
  if (random.chance(0.2)) rel.act(ed, 'front_desk', arrival + 120_000, 'update', 'Patient');

  const triage = arrival + random.between(5, 20) * MINUTE_MS;
  breakGlass('nurse', triage);
  rel.act(ed, 'nurse', triage, 'view', 'Patient');
  rel.act(ed, 'nurse', triage + 2 * MINUTE_MS, 'create', 'Observation', {
    resourceId: rel.newResourceId('Observation'),
  });
  rel.act(ed, 'nurse', triage + 4 * MINUTE_MS, 'view', 'MedicationStatement');
  rel.act(ed, 'nurse', triage + 5 * MINUTE_MS, 'view', 'AllergyIntolerance');

  const exam = triage + random.between(15, 60) * MINUTE_MS;
  breakGlass('physician', exam);
  rel.act(ed, 'physician', exam, 'view', 'Encounter');
  rel.act(ed, 'physician', exam + 30_000, 'view', 'DocumentReference');
  rel.act(ed, 'physician', exam + 60_000, 'view', 'Observation');
  if (random.chance(0.7)) {
    rel.act(ed, 'physician', exam + 5 * MINUTE_MS, 'create', 'ServiceRequest', {
      resourceId: rel.newResourceId('ServiceRequest'),
    });
    rel.act(ed, 'physician', exam + random.between(60, 110) * MINUTE_MS, 'view', 'DiagnosticReport');
  }
  if (random.chance(0.4)) orderImaging(ctx, rel, ed, exam + 8 * MINUTE_MS);
  const medicated = random.chance(0.6);
  if (medicated) orderMedication(ctx, rel, ed, exam + 10 * MINUTE_MS);

  const reassess = arrival + stay / 2;
  rel.act(ed, 'nurse', reassess, 'create', 'Observation', { resourceId: rel.newResourceId('Observation') });
  if (medicated) rel.act(ed, 'nurse', reassess + 5 * MINUTE_MS, 'create', 'MedicationAdministration');

  const note = rel.newResourceId('DocumentReference');
  rel.act(ed, 'physician', end - random.between(10, 25) * MINUTE_MS, 'create', 'DocumentReference', {
    resourceId: note,
  });
  if (random.chance(0.18)) {
    admission(ctx, patient, random.chance(0.55) ? 'cardiology' : 'oncology', end);
  } else {
    rel.act(ed, 'nurse', end - 2 * MINUTE_MS, 'print', 'DocumentReference');
  }
  rel.act(ed, 'physician', end + random.between(0, 60) * MINUTE_MS, 'update', 'DocumentReference', {
    resourceId: note,
    sticky: true,
  });
  closeOut(ctx, rel, end, { code: true });
  rel.close(end);
}

/** An inpatient stay on `unit`: admission, nursing every shift, daily rounds, discharge. */
function admission(ctx: PlanContext, patient: Patient, unit: string, start: number): void {
  const { random } = ctx;
  const rel = openRelationship(ctx, { kind: 'admission', patient, department: unit, start });
  const admitDay = ctx.calendar.dayOf(start);
  const dischargeDay = admitDay + random.between(1, MAX_STAY_DAYS);
  const end = ctx.calendar.instant(dischargeDay, random.between(10 * 60, 15 * 60));

  rel.act(unit, 'front_desk', start + random.between(10, 30) * MINUTE_MS, 'update', 'Encounter');
  const admit = start + random.between(20, 60) * MINUTE_MS;
  rel.act(unit, 'physician', admit, 'view', 'Encounter');
  rel.act(unit, 'physician', admit + MINUTE_MS, 'view', 'DocumentReference');
  rel.act(unit, 'physician', admit + 15 * MINUTE_MS, 'create', 'DocumentReference', {
    resourceId: rel.newResourceId('DocumentReference'),
  });
  orderMedication(ctx, rel, unit, admit + 20 * MINUTE_MS);
  if (random.chance(0.7)) {
    rel.act(unit, 'physician', admit + 22 * MINUTE_MS, 'create', 'ServiceRequest', {
      resourceId: rel.newResourceId('ServiceRequest'),
    });
  }

  // Nursing: whoever has the patient each shift checks the chart, charts vitals and gives meds.
  for (let block = start + HOUR_MS; block < end - HOUR_MS; block += 8 * HOUR_MS) {
    rel.act(unit, 'nurse', block + random.between(0, 40) * MINUTE_MS, 'view', 'Patient');
    rel.act(unit, 'nurse', block + random.between(45, 90) * MINUTE_MS, 'view', 'MedicationRequest');
    rel.act(unit, 'nurse', block + random.between(100, 180) * MINUTE_MS, 'create', 'Observation');
    rel.act(unit, 'nurse', block + random.between(200, 300) * MINUTE_MS, 'create', 'MedicationAdministration');
    if (random.chance(0.5))
      rel.act(unit, 'nurse', block + random.between(320, 420) * MINUTE_MS, 'create', 'Observation');
  }

  // Morning rounds on every full day of the stay.
  for (let day = admitDay + 1; day <= dischargeDay; day++) {
    const rounds = ctx.calendar.instant(day, random.between(8 * 60, 11 * 60));
    if (rounds >= end) break;
    rel.act(unit, 'physician', rounds, 'view', 'Observation');
    rel.act(unit, 'physician', rounds + MINUTE_MS, 'view', 'DiagnosticReport');
    rel.act(unit, 'physician', rounds + 10 * MINUTE_MS, 'create', 'DocumentReference', {
      resourceId: rel.newResourceId('DocumentReference'),
    });
    if (random.chance(0.3)) orderMedication(ctx, rel, unit, rounds + 12 * MINUTE_MS);
    if (random.chance(0.15)) orderImaging(ctx, rel, unit, rounds + 14 * MINUTE_MS);
  }

  rel.act(unit, 'physician', end - random.between(30, 60) * MINUTE_MS, 'create', 'DocumentReference', {
    resourceId: rel.newResourceId('DocumentReference'),
  });
  rel.act(unit, 'nurse', end - 10 * MINUTE_MS, 'print', 'DocumentReference');
  rel.act(unit, 'front_desk', end, 'update', 'Encounter');
  closeOut(ctx, rel, end, { code: true });
  rel.close(end);
}
