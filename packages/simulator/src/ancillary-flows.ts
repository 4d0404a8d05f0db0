import { nextWeekday } from './local-time.js';
import { MINUTE_MS, type PlanContext, type RelationshipBuilder } from './relationship-builder.js';

/**
 * The departments an encounter pulls in: pharmacy verifies medication orders, radiology performs
 * and reads imaging, billing files the claim and HIM codes the chart. Each access is made by
 * whoever of that department is on duty then, so it is explained by the encounter's relationship.
 */

const has = (ctx: PlanContext, department: string): boolean => ctx.profile.departments.some((d) => d.id === department);

/** A physician orders a medication; the pharmacist on duty verifies it. */
export function orderMedication(ctx: PlanContext, rel: RelationshipBuilder, department: string, at: number): void {
  const { random } = ctx;
  const order = rel.newResourceId('MedicationRequest');
  if (!rel.act(department, 'physician', at, 'create', 'MedicationRequest', { resourceId: order })) return;
  if (!has(ctx, 'pharmacy')) return;
  const verify = at + random.between(5, 40) * MINUTE_MS;
  rel.act('pharmacy', 'pharmacist', verify, 'view', 'MedicationRequest', { resourceId: order });
  rel.act('pharmacy', 'pharmacist', verify + random.between(1, 4) * MINUTE_MS, 'update', 'MedicationRequest', {
    resourceId: order,
  });
  if (random.chance(0.4)) rel.act('pharmacy', 'pharmacist', verify + MINUTE_MS, 'view', 'AllergyIntolerance');
}

/** A physician orders imaging; a technologist performs it and a radiologist reports; the orderer reads the report. */
export function orderImaging(ctx: PlanContext, rel: RelationshipBuilder, department: string, at: number): void {
  const { random } = ctx;
  const order = rel.newResourceId('ServiceRequest');
  if (!rel.act(department, 'physician', at, 'create', 'ServiceRequest', { resourceId: order })) return;
  if (!has(ctx, 'radiology')) return;
  const study = rel.newResourceId('ImagingStudy');
  const report = rel.newResourceId('DiagnosticReport');
  const scan = at + random.between(20, 90) * MINUTE_MS;
  rel.act('radiology', 'radiology_tech', scan, 'view', 'ServiceRequest', { resourceId: order });
  rel.act('radiology', 'radiology_tech', scan + random.between(10, 25) * MINUTE_MS, 'create', 'ImagingStudy', {
    resourceId: study,
  });
  const read = scan + random.between(30, 120) * MINUTE_MS;
  rel.act('radiology', 'physician', read, 'view', 'ImagingStudy', { resourceId: study });
  rel.act('radiology', 'physician', read + random.between(5, 15) * MINUTE_MS, 'view', 'DocumentReference');
  rel.act('radiology', 'physician', read + random.between(15, 30) * MINUTE_MS, 'create', 'DiagnosticReport', {
    resourceId: report,
  });
  rel.act(department, 'physician', read + random.between(35, 80) * MINUTE_MS, 'view', 'DiagnosticReport', {
    resourceId: report,
  });
}

/** A random office-hours instant on the first weekday at least `afterDays` days after `end`. */
function officeTime(ctx: PlanContext, end: number, afterDays: number): number {
  const day = nextWeekday(ctx.calendar.dayOf(end) + afterDays);
  return ctx.calendar.instant(day, ctx.random.between(8 * 60 + 30, 16 * 60 + 30)) + ctx.random.int(60_000);
}

/** Billing files the claim a day or two after the encounter; HIM (hospital) codes the chart of ED visits and stays. */
export function closeOut(ctx: PlanContext, rel: RelationshipBuilder, end: number, options: { code: boolean }): void {
  const { random } = ctx;
  const bill = officeTime(ctx, end, random.between(1, 2));
  rel.act('billing', 'billing', bill, 'view', 'Encounter');
  rel.act('billing', 'billing', bill + random.between(2, 8) * MINUTE_MS, 'create', 'Claim', {
    resourceId: rel.newResourceId('Claim'),
  });
  if (random.chance(0.25)) {
    rel.act('billing', 'billing', bill + random.between(9, 20) * MINUTE_MS, 'query', 'Claim', {
      recordCount: random.between(1, 8),
    });
  }
  if (!options.code || !has(ctx, 'him')) return;
  const code = officeTime(ctx, end, random.between(1, 3));
  rel.act('him', 'him_clerk', code, 'view', 'DocumentReference');
  rel.act('him', 'him_clerk', code + random.between(5, 20) * MINUTE_MS, 'update', 'DocumentReference');
  if (random.chance(0.03)) {
    // Release of information: a copy of the chart for an insurer or the patient.
    rel.act('him', 'him_clerk', code + random.between(25, 60) * MINUTE_MS, 'export', 'DocumentReference', {
      recordCount: random.between(5, 60),
    });
  }
}
