import type { AssessmentConclusion, CaseEvent, CaseStatus, RiskFactor, RiskLevel } from './case-store.js';

/**
 * A case's current state, folded from its events (case-store.ts): what the console shows and
 * what the breach clock runs on. Nothing here is stored; the events are the record.
 */

/** One note, as written. */
export interface CaseNote {
  at: number;
  by: string;
  text: string;
}

/** The latest risk assessment (45 CFR 164.402(2)) with who made it and when. */
export interface CaseAssessment {
  factors: Record<RiskFactor, { level: RiskLevel; notes: string }>;
  conclusion: AssessmentConclusion;
  rationale: string;
  at: number;
  by: string;
}

/** The latest breach facts with who recorded them and when. */
export interface CaseBreachFacts {
  discoveredOn: string;
  affectedIndividuals: number;
  largestJurisdictionCount?: number;
  reason: string;
  at: number;
  by: string;
}

export interface CaseView {
  caseId: string;
  tenant: string;
  title: string;
  summary: string;
  /** The latest status event's status; `open` until one is appended. */
  status: CaseStatus;
  openedAt: number;
  openedBy: string;
  /** `at` of the latest event. */
  updatedAt: number;
  /** The opening alerts, then linked ones, each once, in the order first named. */
  alertIds: string[];
  notes: CaseNote[];
  assessment?: CaseAssessment;
  breachFacts?: CaseBreachFacts;
  /** The breach clock's day 0: the latest breach facts' discoveredOn, else the opening one. */
  discoveredOn: string;
  /** Every event of the case, in store order. */
  history: CaseEvent[];
}

/**
 * Folds one case's events, given in compareCaseEvents order (as both stores return them), into
 * its current state: later status, assessment and breach-facts events win. Throws when the
 * list is empty, does not start with the `opened` event, or mixes cases (a caller's bug: the
 * stores never return such a list).
 */
export function foldCase(events: readonly CaseEvent[]): CaseView {
  const first = events[0];
  if (first === undefined) throw new Error('a case has at least one event');
  if (first.kind !== 'opened') throw new Error(`a case's first event must be opened, not ${first.kind}`);
  const alertIds = new Set(first.alertIds);
  const view: CaseView = {
    caseId: first.caseId,
    tenant: first.tenant,
    title: first.title,
    summary: first.summary,
    status: 'open',
    openedAt: first.at,
    openedBy: first.by,
    updatedAt: first.at,
    alertIds: [],
    notes: [],
    discoveredOn: first.discoveredOn,
    history: [...events],
  };
  for (const event of events.slice(1)) {
    if (event.caseId !== first.caseId || event.tenant !== first.tenant) {
      throw new Error('events of different cases cannot be folded together');
    }
    view.updatedAt = Math.max(view.updatedAt, event.at);
    const { at, by } = event;
    switch (event.kind) {
      case 'opened':
        throw new Error('a case is opened once');
      case 'note':
        view.notes.push({ at, by, text: event.text });
        break;
      case 'status':
        view.status = event.status;
        break;
      case 'alerts_linked':
        for (const id of event.alertIds) alertIds.add(id);
        break;
      case 'assessment':
        view.assessment = { factors: event.factors, conclusion: event.conclusion, rationale: event.rationale, at, by };
        break;
      case 'breach_facts':
        view.breachFacts = {
          discoveredOn: event.discoveredOn,
          affectedIndividuals: event.affectedIndividuals,
          ...(event.largestJurisdictionCount !== undefined
            ? { largestJurisdictionCount: event.largestJurisdictionCount }
            : {}),
          reason: event.reason,
          at,
          by,
        };
        view.discoveredOn = event.discoveredOn;
        break;
      default:
        return event satisfies never;
    }
  }
  view.alertIds = [...alertIds];
  return view;
}

/**
 * Folds every event of a tenant's cases (tenantCaseEvents: compareCaseEvents order across
 * cases) into one view per case, in order of opening.
 */
export function foldCases(events: readonly CaseEvent[]): CaseView[] {
  const byCase = new Map<string, CaseEvent[]>();
  for (const event of events) {
    const list = byCase.get(event.caseId);
    if (list === undefined) byCase.set(event.caseId, [event]);
    else list.push(event);
  }
  return [...byCase.values()].map(foldCase);
}
