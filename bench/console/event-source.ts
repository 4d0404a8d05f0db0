import { ALL_RULES, alertId, SEVERITIES, type Alert } from '@phi-audit/rules';
import { parseIngestEvent, type AccessEvent } from '@phi-audit/schema';
import { createFacility, createTrafficGenerator, type TrafficGenerator } from '@phi-audit/simulator';

/**
 * The console benchmark's events: two simulated facilities (a community hospital and a small
 * clinic, fixed seeds; @phi-audit/simulator) merged in event-time order, as parsed AccessEvents.
 * The hospital makes ~10,000 events a day and the clinic ~500, so a 10M-event log spans years.
 */

const DAY_MS = 86_400_000;
/** Far enough back that 10M events (~2.7 years) end before today, inside the access report's six years. */
export const EVENTS_START = Date.UTC(2024, 0, 1, 5);

export interface BenchEventSource {
  next(): AccessEvent;
  tenants: readonly string[];
}

/** The hospital first: it is the tenant the benchmark queries. */
export function createBenchEventSource(): BenchEventSource {
  const generators: TrafficGenerator[] = [
    createTrafficGenerator({ facility: createFacility({ profile: 'hospital', seed: 42 }), start: EVENTS_START }),
    createTrafficGenerator({ facility: createFacility({ profile: 'clinic', seed: 7 }), start: EVENTS_START }),
  ];
  const tenants: string[] = [];
  return {
    get tenants() {
      return tenants;
    },
    next() {
      const gen = generators.reduce((a, b) => (b.peekTime() < a.peekTime() ? b : a));
      const sim = gen.next();
      if (!tenants.includes(sim.tenant)) tenants.push(sim.tenant);
      const parsed = parseIngestEvent(sim.body, {
        tenant: sim.tenant,
        sourceSystem: 'ehr',
        receivedAt: sim.at + 500,
        maxPastMs: DAY_MS,
        maxFutureMs: 0,
      });
      if (!parsed.ok) throw new Error(`simulated event rejected: ${JSON.stringify(parsed.issues)}`);
      return parsed.event;
    },
  };
}

/** The rule ids alerts are spread over (the real rule set's). */
const RULE_IDS = ALL_RULES.map((r) => r.id);

/**
 * A valid alert resting on one stored event (its evidence), of a rule picked by `k`: what the
 * detector would store for a suspicious access, with a spread of severities and risk scores so
 * the review list's risk sort has work to do. Events without a patient give user-level alerts.
 */
export function alertFor(event: AccessEvent, k: number): Alert {
  const ruleId = RULE_IDS[k % RULE_IDS.length] as string;
  const day = new Date(event.occurredAt).toISOString().slice(0, 10);
  const patientId = event.patient?.id;
  const key = { tenant: event.tenant, ruleId, userId: event.actor.userId, patientId, day };
  return {
    alertId: alertId(key),
    tenant: event.tenant,
    ruleId,
    userId: event.actor.userId,
    ...(patientId !== undefined ? { patientId } : {}),
    day,
    severity: SEVERITIES[(k * 7) % SEVERITIES.length] as Alert['severity'],
    riskScore: (k * 37) % 101,
    explanation: `The ${ruleId} rule flagged this access (benchmark alert ${k}).`,
    evidence: [{ source: event.source.system, eventId: event.eventId, occurredAt: event.occurredAt }],
    truncated: false,
    firstEventAt: event.occurredAt,
    lastEventAt: event.occurredAt,
  };
}
