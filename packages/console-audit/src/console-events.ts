import { safeParseSealedAccessEvent, type AccessEvent, type Action } from '@phi-audit/schema';
import { CONSOLE_USER_PREFIX, type ConsoleAction } from './console-action.js';
import { ConsoleAuditError } from './errors.js';

/**
 * The schema requires a patient on every event but a login. A console action that concerns no
 * patient (a search that matched nothing, a user timeline of no patient records, a decision on
 * an alert without one) is recorded against this reserved id: it cannot be an MRN (it carries
 * the product prefix), and a search for it finds every patient-less console action.
 */
export const CONSOLE_NO_PATIENT = 'phi-audit:no-patient';

/** The department every console actor is recorded in. */
export const CONSOLE_DEPARTMENT = 'privacy-office';

/**
 * HL7 v3 PurposeOfUse HCOMPL (health compliance): reviewing access logs for the privacy
 * office. A sub-purpose of HOPERAT (healthcare operations).
 */
export const CONSOLE_PURPOSE_OF_USE = 'HCOMPL';

/** Where the events of one action come from. */
export interface ConsoleEventContext {
  /** Epoch ms; both occurredAt and receivedAt (the console is source and receiver at once). */
  now: number;
  /** A fresh event id, unique within the source system. */
  newId: () => string;
  sourceSystem: string;
  purposeOfUse: string;
}

/** One event's varying part; the rest is the same for every event of the action. */
interface Shape {
  action: Action;
  resource: { type: string; id?: string };
  recordCount?: number;
}

/** Patients in order of first mention, each once; the reserved id when there are none. */
function patientsOf(...lists: readonly (readonly (string | undefined)[] | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const list of lists) for (const p of list ?? []) if (p !== undefined) seen.add(p);
  return seen.size === 0 ? [CONSOLE_NO_PATIENT] : [...seen];
}

const withCount = (recordCount: number | undefined): { recordCount?: number } =>
  recordCount === undefined ? {} : { recordCount };

/** What each patient of the action gets recorded as: the action's own mapping. */
function shapesOf(action: ConsoleAction): { patientId: string; shape: Shape }[] {
  const each = (patients: string[], shape: Shape) => patients.map((patientId) => ({ patientId, shape }));
  switch (action.kind) {
    case 'view_alert':
      return each(patientsOf([action.patientId]), {
        action: 'view',
        resource: { type: 'phi-audit.alert', id: action.alertId },
        recordCount: action.evidenceCount,
      });
    case 'view_patient_timeline':
      return each([action.patientId], {
        action: 'view',
        resource: { type: 'phi-audit.patient-timeline' },
        ...withCount(action.resultCount),
      });
    case 'view_user_timeline':
      // The subject is a workforce member's id (not PHI): who was looked into is what an
      // auditor of the auditors asks first.
      return each(patientsOf(action.patientIds), {
        action: 'view',
        resource: { type: 'phi-audit.user-timeline', id: action.subjectUserId },
        ...withCount(action.resultCount),
      });
    case 'search':
      return each(patientsOf([action.filters.patientId], action.patientIds), {
        action: 'query',
        resource: {
          type: 'phi-audit.search',
          ...(action.filters.userId !== undefined ? { id: action.filters.userId } : {}),
        },
        recordCount: action.resultCount,
      });
    case 'patient_access_report':
      return each([action.patientId], {
        action: 'query',
        resource: { type: 'phi-audit.patient-access-report' },
        recordCount: action.resultCount,
      });
    case 'export_csv':
      return each(patientsOf([action.patientId], action.patientIds), {
        action: 'export',
        resource: { type: 'phi-audit.csv-export', id: action.what },
        recordCount: action.rowCount,
      });
    case 'export_evidence':
      return each(patientsOf([action.patientId], action.patientIds), {
        action: 'export',
        resource: { type: 'phi-audit.evidence-bundle' },
        recordCount: action.eventCount,
      });
    case 'decide':
      // One event per alert: each decision changes one alert's review state. The decision's
      // reason is free text and stays in the review store.
      return action.alerts.map((a) => ({
        patientId: a.patientId ?? CONSOLE_NO_PATIENT,
        shape: { action: 'update', resource: { type: 'phi-audit.alert', id: a.alertId } },
      }));
    case 'view_case':
      return each(patientsOf(action.patientIds), {
        action: 'view',
        resource: { type: 'phi-audit.case', id: action.caseId },
        recordCount: action.alertCount,
      });
    case 'case_update':
      return each(patientsOf(action.patientIds), {
        action: action.change === 'opened' ? 'create' : 'update',
        resource: { type: 'phi-audit.case', id: action.caseId },
      });
    default:
      return action satisfies never;
  }
}

/**
 * The access events that record `action`: one per patient concerned, each validated against
 * AccessEventSchema and sealed (safeParseSealedAccessEvent), exactly as the embedded ledger
 * seals ingested events. Pure apart from ctx.newId. Throws CONSOLE_AUDIT_INVALID_ACTION, naming
 * field paths only, when an event would not be valid.
 */
export function consoleAccessEvents(action: ConsoleAction, ctx: ConsoleEventContext): AccessEvent[] {
  const { user } = action;
  const actor = {
    userId: `${CONSOLE_USER_PREFIX}${user.username}`,
    role: user.role,
    department: CONSOLE_DEPARTMENT,
    ...(user.ip !== undefined ? { ip: user.ip } : {}),
  };
  return shapesOf(action).map(({ patientId, shape }) => {
    const parsed = safeParseSealedAccessEvent({
      eventId: ctx.newId(),
      tenant: action.tenant,
      occurredAt: ctx.now,
      receivedAt: ctx.now,
      source: { system: ctx.sourceSystem },
      actor,
      patient: { id: patientId },
      action: shape.action,
      resource: shape.resource,
      outcome: 'success',
      purposeOfUse: ctx.purposeOfUse,
      ...withCount(shape.recordCount),
    });
    if (!parsed.success) {
      const paths = parsed.error.issues.map((i) => i.path.join('.') || '(event)').join(', ');
      throw new ConsoleAuditError(
        'CONSOLE_AUDIT_INVALID_ACTION',
        `the ${action.kind} action does not make a valid access event (fields: ${paths}); nothing was recorded`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  });
}
