import { z } from 'zod';
import { AccessEventFieldsSchema, PatientSchema, ResourceSchema } from '@phi-audit/schema';

/**
 * What a console user did that discloses PHI or changes a review: the input of
 * ConsoleAuditTrail.record(). Strict objects of identifiers, counts and fixed tokens only:
 * free text a user typed (a search box, a decision reason) has no field here, so it cannot
 * reach the ledger by accident.
 */

const fields = AccessEventFieldsSchema.shape;
const tenant = fields.tenant;
const patientId = PatientSchema.shape.id;
const identifier = ResourceSchema.shape.id.unwrap();
const count = fields.recordCount.unwrap();
const epochMs = fields.occurredAt;

/** Prefix of every console user's actor.userId, so they never collide with EHR user ids. */
export const CONSOLE_USER_PREFIX = 'console:';

/** The signed-in console user. */
export const ConsoleUserSchema = z.strictObject({
  /** The console account's user name; actor.userId becomes `console:<username>`. */
  username: identifier.refine(
    (u) => CONSOLE_USER_PREFIX.length + u.length <= 256,
    `username must be at most ${256 - CONSOLE_USER_PREFIX.length} characters`,
  ),
  /** The console role (privacy officer, investigator, …): actor.role. */
  role: fields.actor.shape.role.unwrap(),
  /** The client address the request came from: actor.ip. */
  ip: fields.actor.shape.ip,
});
export type ConsoleUser = z.infer<typeof ConsoleUserSchema>;

/**
 * Patients whose records the response discloses, beyond the one the action names: the patients
 * in a user timeline, a search result or an export. One access event is written per patient, so
 * each of them finds the console user's look-up in their own access report.
 */
const disclosedPatients = z.array(patientId).max(100_000).optional();

/** A fixed lower-case token chosen by the console (export kind, decision), never user text. */
const token = (what: string) =>
  z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, `${what} must be a lower-case token (a-z, 0-9, "_", "-")`);

const base = { tenant, user: ConsoleUserSchema };

export const ConsoleActionSchema = z.discriminatedUnion('kind', [
  /** An alert's detail page with its evidence events. */
  z.strictObject({
    kind: z.literal('view_alert'),
    ...base,
    alertId: identifier,
    patientId: patientId.optional(),
    evidenceCount: count,
  }),
  /** "Who looked at this patient's record?" as a timeline. */
  z.strictObject({ kind: z.literal('view_patient_timeline'), ...base, patientId, resultCount: count.optional() }),
  /** "What did this workforce member look at?" as a timeline. */
  z.strictObject({
    kind: z.literal('view_user_timeline'),
    ...base,
    subjectUserId: identifier,
    patientIds: disclosedPatients,
    resultCount: count.optional(),
  }),
  /** A search of the access log; only the patient filter is recorded (as the event's patient). */
  z.strictObject({
    kind: z.literal('search'),
    ...base,
    filters: z.strictObject({
      patientId: patientId.optional(),
      userId: identifier.optional(),
      from: epochMs.optional(),
      to: epochMs.optional(),
      action: fields.action.optional(),
    }),
    patientIds: disclosedPatients,
    resultCount: count,
  }),
  /** The patient access report (HIPAA accounting of disclosures / right of access). */
  z.strictObject({
    kind: z.literal('patient_access_report'),
    ...base,
    patientId,
    from: epochMs,
    to: epochMs,
    resultCount: count,
  }),
  /** A CSV download (`what`: alerts, accesses, …). */
  z.strictObject({
    kind: z.literal('export_csv'),
    ...base,
    what: token('what'),
    rowCount: count,
    patientId: patientId.optional(),
    patientIds: disclosedPatients,
  }),
  /** A verifiable evidence bundle (events with inclusion proofs). */
  z.strictObject({
    kind: z.literal('export_evidence'),
    ...base,
    eventCount: count,
    patientId: patientId.optional(),
    patientIds: disclosedPatients,
  }),
  /** A review decision on one or more alerts; the decision's reason is free text and stays out. */
  z.strictObject({
    kind: z.literal('decide'),
    ...base,
    decision: token('decision'),
    alerts: z
      .array(z.strictObject({ alertId: identifier, patientId: patientId.optional() }))
      .min(1, 'alerts must name at least one alert')
      .max(10_000),
  }),
  /**
   * A case's detail page: the patients of its alerts are disclosed. The case's title, summary,
   * notes and assessment are free text and have no field here.
   */
  z.strictObject({
    kind: z.literal('view_case'),
    ...base,
    caseId: identifier,
    patientIds: disclosedPatients,
    alertCount: count,
  }),
  /**
   * A change to a case (`change`: the case event kind, such as `opened` or `note`); the answer
   * shows the case again, so the patients of its alerts are named as for view_case.
   */
  z.strictObject({
    kind: z.literal('case_update'),
    ...base,
    caseId: identifier,
    change: token('change'),
    patientIds: disclosedPatients,
  }),
]);

export type ConsoleAction = z.infer<typeof ConsoleActionSchema>;
export type ConsoleActionKind = ConsoleAction['kind'];
