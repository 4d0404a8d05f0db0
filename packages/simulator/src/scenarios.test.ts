import { TZDate } from '@date-fns/tz';
import { parseIngestEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { createFacility, relationshipsForDays, RELATIONSHIP_LOOKBACK_DAYS, type Facility } from './facility.js';
import { SCENARIO_CLASSES, type ScenarioClass, type TreatmentRelationship } from './reference-data.js';
import { EXPECTED_RULES } from './scenarios.js';
import { createTrafficGenerator, type SimEvent } from './traffic-generator.js';
// A test-only import: the simulator itself stays independent of the rules package.
import { RULE_IDS } from '@phi-audit/rules';

const DAY_MS = 86_400_000;
const MARCH_3_2025 = Date.UTC(2025, 2, 3, 5); // Monday, midnight in New York

function run(facility: Facility, days: number, perDay: number | undefined, start = MARCH_3_2025): SimEvent[] {
  const generator = createTrafficGenerator({
    facility,
    start,
    ...(perDay === undefined ? {} : { scenarios: { perDay } }),
  });
  const out: SimEvent[] = [];
  while (generator.peekTime() < start + days * DAY_MS) out.push(generator.next());
  return out;
}

/** Scenario events grouped by instance, in time order. */
function instances(events: readonly SimEvent[]): Map<string, { scenario: ScenarioClass; events: SimEvent[] }> {
  const out = new Map<string, { scenario: ScenarioClass; events: SimEvent[] }>();
  for (const e of events) {
    if (e.label.kind !== 'scenario') continue;
    const entry = out.get(e.label.scenarioId) ?? { scenario: e.label.scenario, events: [] };
    entry.events.push(e);
    out.set(e.label.scenarioId, entry);
  }
  return out;
}

describe('snooping scenarios', () => {
  const hospital = createFacility({ profile: 'hospital', seed: 5 });
  const days = 5;
  const events = run(hospital, days, 10);
  const relationships = relationshipsForDays(
    hospital,
    hospital.dayOf(MARCH_3_2025) - RELATIONSHIP_LOOKBACK_DAYS,
    hospital.dayOf(MARCH_3_2025) + days + 1,
  );
  const byPatient = new Map<string, TreatmentRelationship[]>();
  for (const r of relationships) byPatient.set(r.patientId, [...(byPatient.get(r.patientId) ?? []), r]);
  /** Whether the acting user or their department had a relationship with the event's patient then. */
  const related = (e: SimEvent): boolean =>
    (byPatient.get(e.body.patient?.id ?? '') ?? []).some(
      (r) =>
        e.at >= r.accessFrom &&
        e.at <= r.accessTo &&
        (r.careTeam.includes(e.body.actor.userId) ||
          r.department === e.body.actor.department ||
          r.departments.includes(e.body.actor.department)),
    );
  const planted = instances(events);

  it('are off by default: the same traffic, all of it benign', () => {
    const plain = run(hospital, 1, undefined);
    expect(plain.every((e) => e.label.kind === 'benign')).toBe(true);
    const withNone = run(hospital, 1, 0);
    expect(JSON.stringify(withNone)).toBe(JSON.stringify(plain));
  });

  it('are reproducible, mixed into benign traffic in time order, and accepted by the collector', () => {
    expect(JSON.stringify(run(hospital, 2, 10))).toBe(
      JSON.stringify(events.filter((e) => e.at < MARCH_3_2025 + 2 * DAY_MS)),
    );
    expect(new Set(events.map((e) => e.body.eventId)).size).toBe(events.length);
    for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
    const ctx = {
      tenant: hospital.tenant,
      sourceSystem: 'ehr',
      receivedAt: events.at(-1)!.at + 1_000,
      maxPastMs: 30 * DAY_MS,
      maxFutureMs: 0,
    };
    for (const e of events.filter((x) => x.label.kind === 'scenario')) {
      const parsed = parseIngestEvent(JSON.parse(JSON.stringify(e.body)), ctx);
      expect(parsed.ok, JSON.stringify(e.body)).toBe(true);
    }
    const benign = events.filter((e) => e.label.kind === 'benign').length;
    expect(benign).toBeGreaterThan(events.length * 0.95);
  });

  it('plant every class, labelled with the rules that must catch it', () => {
    const counts = new Map<ScenarioClass, number>();
    for (const { scenario, events: evs } of planted.values()) {
      counts.set(scenario, (counts.get(scenario) ?? 0) + 1);
      for (const e of evs) {
        expect(e.label).toMatchObject({ kind: 'scenario', scenario, expectedRules: EXPECTED_RULES[scenario] });
      }
    }
    for (const cls of SCENARIO_CLASSES) {
      expect(counts.get(cls) ?? 0, cls).toBeGreaterThanOrEqual(3);
      for (const rule of EXPECTED_RULES[cls]) expect(RULE_IDS).toContain(rule);
    }
  });

  it('snoop during the shift at the usual workstation, on records with no treatment relationship', () => {
    const onShift: ScenarioClass[] = ['family', 'coworker', 'neighbour', 'vip', 'self-access', 'deceased-patient'];
    for (const { scenario, events: evs } of planted.values()) {
      if (!onShift.includes(scenario)) continue;
      for (const e of evs) {
        const member = hospital.member(e.body.actor.userId)!;
        expect(member.status).toBe('active');
        expect(hospital.roster.isOnDuty(member, e.at), `${scenario} ${e.body.occurredAt}`).toBe(true);
        expect(e.body.actor.workstation).toBe(member.workstation);
        if (scenario !== 'self-access') expect(related(e), `${scenario} ${e.body.eventId}`).toBe(false);
      }
    }
  });

  it('point at the reference-data facts each rule needs', () => {
    for (const { scenario, events: evs } of planted.values()) {
      const first = evs[0]!;
      const member = hospital.member(first.body.actor.userId)!;
      const patient = hospital.patient(first.body.patient?.id ?? '');
      switch (scenario) {
        case 'family': {
          const own = hospital.patients.find((p) => p.workforceUserId === member.userId)!;
          expect(patient?.householdId).toBe(own.householdId);
          expect(patient?.familyName).toBe(member.familyName);
          expect(patient?.address).toEqual(member.address);
          expect(patient?.workforceUserId).toBeUndefined();
          break;
        }
        case 'coworker': {
          const coworker = hospital.member(patient?.workforceUserId ?? '');
          expect(coworker?.status).toBe('active');
          expect(coworker?.userId).not.toBe(member.userId);
          expect(coworker?.department).not.toBe(member.department);
          break;
        }
        case 'neighbour': {
          const street = (line: string) => line.slice(line.indexOf(' ') + 1);
          expect(patient?.address.postalCode).toBe(member.address.postalCode);
          expect(street(patient!.address.line)).toBe(street(member.address.line));
          expect(patient?.address.line).not.toBe(member.address.line);
          break;
        }
        case 'vip':
          expect(patient?.vip).toBe(true);
          break;
        case 'self-access':
          expect(patient?.workforceUserId).toBe(member.userId);
          break;
        case 'deceased-patient':
          expect(patient?.deceasedAt).toBeLessThan(first.at - 60 * DAY_MS);
          break;
        case 'after-hours': {
          expect(first.body.action).toBe('login');
          expect(['day', 'office']).toContain(member.shift);
          for (const e of evs) {
            expect(hospital.roster.isOnDuty(member, e.at)).toBe(false);
            const hour = new TZDate(e.at, hospital.timeZone).getHours();
            expect(hour, e.body.occurredAt).toBeGreaterThanOrEqual(1);
            expect(hour, e.body.occurredAt).toBeLessThan(5);
          }
          expect(evs.slice(1).every((e) => e.body.patient !== undefined && !related(e))).toBe(true);
          break;
        }
        case 'bulk-export': {
          const rows = evs.some((e) => e.body.action === 'export' && (e.body.recordCount ?? 0) >= 500);
          const distinct = new Set(evs.filter((e) => e.at < first.at + 30 * 60_000).map((e) => e.body.patient?.id))
            .size;
          expect(rows || distinct > 50, `rows ${rows}, distinct in 30 min ${distinct}`).toBe(true);
          break;
        }
        case 'terminated-user':
          expect(member.status).toBe('terminated');
          expect(first.body.action).toBe('login');
          expect(first.at).toBeGreaterThan(member.terminatedAt!);
          break;
        case 'break-the-glass-misuse': {
          expect(first.body.action).toBe('break_glass');
          expect(patient?.restricted).toBe(true);
          const reasoned = (first.body.reason?.trim().length ?? 0) >= 10;
          expect(!reasoned || !related(first), JSON.stringify(first.body)).toBe(true);
          break;
        }
        default:
          scenario satisfies never;
      }
    }
  });

  it('find their cast in a small clinic too, on working days only', () => {
    const clinic = createFacility({ profile: 'clinic', seed: 3 });
    const seen = new Set<ScenarioClass>();
    for (const { scenario, events: evs } of instances(run(clinic, 14, 5)).values()) {
      seen.add(scenario);
      if (scenario === 'after-hours' || scenario === 'terminated-user') continue;
      const weekday = new TZDate(evs[0]!.at, clinic.timeZone).getDay();
      expect(weekday).toBeGreaterThanOrEqual(1);
      expect(weekday).toBeLessThanOrEqual(5);
    }
    expect([...seen].sort()).toEqual([...SCENARIO_CLASSES].sort());
  });
});
