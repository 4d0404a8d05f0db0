import type { Action } from '@phi-audit/schema';
import { createAccessQueue } from './access-queue.js';
import { PLAN_HORIZON_DAYS } from './day-planner.js';
import type { Facility } from './facility.js';
import type { BenignBasis, PlannedAccess, ScenarioClass } from './reference-data.js';
import { createScenarioPlanner } from './scenarios.js';

/**
 * What an EHR posts to `POST /v1/events` for one access (tenant and source come from the
 * ingest key, so they are not in it). It passes `parseIngestEvent` as it is.
 */
export interface SimEventBody {
  eventId: string;
  /** ISO-8601 UTC, e.g. `2025-03-04T14:05:09.123Z`. */
  occurredAt: string;
  actor: { userId: string; name: string; role: string; department: string; workstation: string };
  /** Absent on a login, which concerns no patient. */
  patient?: { id: string };
  action: Action;
  resource: { type: string; id?: string };
  outcome: 'success' | 'failure';
  purposeOfUse?: string;
  reason?: string;
  recordCount?: number;
}

/**
 * Ground truth for measuring a detector: ordinary work, or an access planted by a snooping
 * scenario with the rule ids of which one must catch it.
 */
export type EventLabel =
  | { kind: 'benign'; basis: BenignBasis }
  | { kind: 'scenario'; scenario: ScenarioClass; scenarioId: string; expectedRules: readonly string[] };

/** One simulated event: the body to post, the tenant whose key posts it, and why it happened. */
export interface SimEvent {
  tenant: string;
  /** Event time, epoch ms (the body's `occurredAt`). */
  at: number;
  body: SimEventBody;
  label: EventLabel;
}

/** Options of {@link createTrafficGenerator}. */
export interface TrafficGeneratorOptions {
  facility: Facility;
  /** Simulated time of the first event, epoch ms; the facility's work before it is skipped. */
  start: number;
  /** Prefix of the event ids (`<runId>-<n>`); give each run its own. Default `sim<seed>`. */
  runId?: string;
  /**
   * Plant labelled snooping scenarios (scenarios.ts) among the benign events, about `perDay`
   * instances per local day from the day of `start` on. Default: none.
   */
  scenarios?: { perDay: number };
}

/** An endless stream of events in non-decreasing time; simulated time runs as fast as it is read. */
export interface TrafficGenerator {
  next(): SimEvent;
  /** Time of the event `next()` returns next, without taking it. */
  peekTime(): number;
  /** Number of events taken so far. */
  readonly count: number;
}

/**
 * Plays a facility's days as events. Each day is planned when simulated time reaches it (its
 * accesses go into a time-ordered queue), so memory holds the accesses of a couple of weeks at
 * most, however long the run. Deterministic: same facility seed, start and run id give the same events.
 */
export function createTrafficGenerator(options: TrafficGeneratorOptions): TrafficGenerator {
  const { facility, start } = options;
  const runId = options.runId ?? `sim${facility.seed}`;
  const queue = createAccessQueue();
  // Stays and billing that began up to two weeks before `start` still produce accesses after it.
  let nextDay = facility.dayOf(start) - PLAN_HORIZON_DAYS;
  let count = 0;
  const firstDay = facility.dayOf(start);
  const scenarios =
    options.scenarios === undefined || options.scenarios.perDay <= 0
      ? undefined
      : createScenarioPlanner({ facility, perDay: options.scenarios.perDay, firstDay });
  // With scenarios a day is released only once the next one is planned too: a scenario must know
  // tomorrow's encounters, whose pre-charting window already opens today.
  const lookahead = scenarios === undefined ? 0 : 1;

  const fill = (): PlannedAccess => {
    for (;;) {
      const head = queue.peek();
      if (head !== undefined && head.at < facility.calendar.dayStart(nextDay - lookahead)) return head;
      const plan = facility.planDay(nextDay);
      for (const access of plan.accesses) if (access.at >= start) queue.push(access);
      if (scenarios !== undefined) {
        scenarios.learn(plan.relationships);
        const day = nextDay - lookahead;
        if (day >= firstDay) for (const access of scenarios.planDay(day)) if (access.at >= start) queue.push(access);
      }
      nextDay += 1;
    }
  };

  const toEvent = (access: PlannedAccess): SimEvent => {
    const member = facility.member(access.userId);
    if (!member) throw new Error(`planned access by unknown user ${access.userId}`);
    count += 1;
    const body: SimEventBody = {
      eventId: `${runId}-${count}`,
      occurredAt: new Date(access.at).toISOString(),
      actor: {
        userId: member.userId,
        name: member.displayName,
        role: member.role,
        department: member.department,
        workstation: access.workstation ?? member.workstation,
      },
      ...(access.patientId === undefined ? {} : { patient: { id: access.patientId } }),
      action: access.action,
      resource:
        access.resourceId === undefined
          ? { type: access.resourceType }
          : { type: access.resourceType, id: access.resourceId },
      outcome: access.outcome,
    };
    if (access.purposeOfUse !== undefined) body.purposeOfUse = access.purposeOfUse;
    if (access.reason !== undefined) body.reason = access.reason;
    if (access.recordCount !== undefined) body.recordCount = access.recordCount;
    const { basis } = access;
    const label: EventLabel =
      basis.kind === 'scenario'
        ? {
            kind: 'scenario',
            scenario: basis.scenario,
            scenarioId: basis.scenarioId,
            expectedRules: basis.expectedRules,
          }
        : { kind: 'benign', basis };
    return { tenant: facility.tenant, at: access.at, body, label };
  };

  return {
    next() {
      fill();
      return toEvent(queue.pop() as PlannedAccess);
    },
    peekTime: () => fill().at,
    get count() {
      return count;
    },
  };
}
