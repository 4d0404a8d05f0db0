import {
  breachClock,
  type Alert,
  type AlertReviewStore,
  type BreachClock,
  type CaseView,
  type DetectionStore,
} from '@phi-audit/rules';
import type { CaseAlert, CaseDetail, CaseSummary } from './case-schemas.js';

/**
 * What the case routes and the dashboard answer, built from folded cases (foldCase) and the
 * alert stores. No I/O besides the store reads passed in.
 */

/** Store reads of a case page run this many at a time (a ClickHouse store does one query each). */
const LOOKUP_CONCURRENCY = 16;

/** `fn` over `items`, at most LOOKUP_CONCURRENCY at a time, results in order. */
async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += LOOKUP_CONCURRENCY) {
    out.push(...(await Promise.all(items.slice(i, i + LOOKUP_CONCURRENCY).map(fn))));
  }
  return out;
}

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

/**
 * The tenant's alerts with these ids, in order. `all`: undefined when any is not the tenant's
 * (the routes answer 404); otherwise the missing ones are left out.
 */
export async function tenantAlerts(
  detection: Pick<DetectionStore, 'alert'>,
  tenant: string,
  ids: readonly string[],
  mode: 'all' | 'existing',
): Promise<Alert[] | undefined> {
  const found = await mapLimited(ids, (id) => detection.alert(tenant, id));
  const mine = found.filter((a): a is Alert => a !== undefined && a.tenant === tenant);
  if (mode === 'all' && mine.length !== ids.length) return undefined;
  return mine;
}

/** Patients of the alerts, each once, in order: what a case page discloses. */
export function patientsOf(alerts: readonly Alert[]): string[] {
  return [...new Set(alerts.flatMap((a) => (a.patientId !== undefined ? [a.patientId] : [])))];
}

/** The case page: the folded case, its clock, its alerts with their review status, its history. */
export async function caseDetailOf(
  review: Pick<AlertReviewStore, 'decisions'>,
  view: CaseView,
  alerts: readonly Alert[],
  today: string,
): Promise<CaseDetail> {
  const statuses = await mapLimited(alerts, async (a) => {
    // decisions() is oldest first by decision time: the last one is the status.
    const decisions = await review.decisions(view.tenant, a.alertId);
    return decisions[decisions.length - 1]?.decision ?? 'open';
  });
  const caseAlerts: CaseAlert[] = alerts.map((a, i) => ({
    alertId: a.alertId,
    ruleId: a.ruleId,
    severity: a.severity,
    riskScore: a.riskScore,
    userId: a.userId,
    ...(a.patientId !== undefined ? { patientId: a.patientId } : {}),
    day: a.day,
    explanation: a.explanation,
    status: statuses[i] ?? 'open',
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
