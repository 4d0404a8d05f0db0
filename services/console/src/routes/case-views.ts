import { breachClock, type Alert, type AlertStatus, type BreachClock, type CaseView } from '@phi-audit/rules';
import type { CaseAlert, CaseDetail, CaseSummary } from './case-schemas.js';

/**
 * What the case routes and the dashboard answer, built from folded cases (foldCase) and the
 * case's alerts with their review status (alert-lookup.ts reads them). No I/O.
 */

/** The calendar date of epoch ms in UTC: the console's "today" for the breach clock. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The case's breach clock read on `today`, from its latest breach facts and assessment. */
export function clockOf(view: CaseView, today: string): BreachClock {
  const facts = view.breachFacts;
  return breachClock({
    discoveredOn: view.discoveredOn,
    today,
    ...(facts !== undefined ? { affectedIndividuals: facts.affectedIndividuals } : {}),
    ...(facts?.largestJurisdictionCount !== undefined
      ? { largestJurisdictionCount: facts.largestJurisdictionCount }
      : {}),
    ...(view.assessment !== undefined ? { conclusion: view.assessment.conclusion } : {}),
  });
}

/** One row of the case list. */
export function caseSummaryOf(view: CaseView, today: string): CaseSummary {
  return {
    caseId: view.caseId,
    title: view.title,
    status: view.status,
    openedAt: view.openedAt,
    openedBy: view.openedBy,
    updatedAt: view.updatedAt,
    alertCount: view.alertIds.length,
    discoveredOn: view.discoveredOn,
    ...(view.assessment !== undefined ? { conclusion: view.assessment.conclusion } : {}),
    breachClock: clockOf(view, today),
  };
}

/** Patients of the alerts, each once, in order: what a case page discloses. */
export function patientsOf(alerts: readonly Alert[]): string[] {
  return [...new Set(alerts.flatMap((a) => (a.patientId !== undefined ? [a.patientId] : [])))];
}

/** The case page: the folded case, its clock, its alerts (in the order given) with their review status, its history. */
export function caseDetailOf(
  view: CaseView,
  alerts: readonly { alert: Alert; status: AlertStatus }[],
  today: string,
): CaseDetail {
  const caseAlerts: CaseAlert[] = alerts.map(({ alert: a, status }) => ({
    alertId: a.alertId,
    ruleId: a.ruleId,
    severity: a.severity,
    riskScore: a.riskScore,
    userId: a.userId,
    ...(a.patientId !== undefined ? { patientId: a.patientId } : {}),
    day: a.day,
    explanation: a.explanation,
    status,
  }));
  return {
    caseId: view.caseId,
    title: view.title,
    summary: view.summary,
    status: view.status,
    openedAt: view.openedAt,
    openedBy: view.openedBy,
    updatedAt: view.updatedAt,
    discoveredOn: view.discoveredOn,
    alertIds: view.alertIds,
    notes: view.notes,
    ...(view.assessment !== undefined ? { assessment: view.assessment } : {}),
    ...(view.breachFacts !== undefined ? { breachFacts: view.breachFacts } : {}),
    breachClock: clockOf(view, today),
    alerts: caseAlerts,
    history: view.history.map(({ tenant: _tenant, ...event }) => event),
  };
}

/** Open, investigating and closed cases, and the earliest individual-notice deadline of a running clock. */
export function caseCounts(
  views: readonly CaseView[],
  today: string,
): {
  open: number;
  investigating: number;
  closed: number;
  nextDeadline?: { caseId: string; deadline: string; daysRemaining: number };
} {
  const counts = { open: 0, investigating: 0, closed: 0 };
  let next: { caseId: string; deadline: string; daysRemaining: number } | undefined;
  for (const view of views) {
    counts[view.status] += 1;
    if (view.status === 'closed') continue;
    const clock = clockOf(view, today);
    // Individual notice is the earliest of the three (HHS and media are due with it or later).
    if (clock.status !== 'running') continue;
    const { deadline, daysRemaining } = clock.individuals;
    if (next === undefined || daysRemaining < next.daysRemaining)
      next = { caseId: view.caseId, deadline, daysRemaining };
  }
  return { ...counts, ...(next !== undefined ? { nextDeadline: next } : {}) };
}
