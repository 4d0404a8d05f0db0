import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TZDate } from '@date-fns/tz';
import { parseIngestEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { createFacility, type Facility } from './facility.js';
import type { TreatmentRelationship } from './reference-data.js';
import { createTrafficGenerator, type SimEvent } from './traffic-generator.js';

const MARCH_3_2025 = Date.UTC(2025, 2, 3, 5); // midnight in New York; DST starts on March 9

function take(facility: Facility, n: number, start = MARCH_3_2025, runId?: string): SimEvent[] {
  const generator = createTrafficGenerator({ facility, start, ...(runId === undefined ? {} : { runId }) });
  return Array.from({ length: n }, () => generator.next());
}

function localHour(at: number, timeZone: string): { hour: number; weekday: number } {
  const d = new TZDate(at, timeZone);
  return { hour: d.getHours() + d.getMinutes() / 60, weekday: d.getDay() };
}

describe('traffic generator', () => {
  const clinic = createFacility({ profile: 'clinic', seed: 7 });
  const hospital = createFacility({ profile: 'hospital', seed: 7 });

  it('is reproducible for a seed and differs between seeds', () => {
    const a = take(createFacility({ profile: 'clinic', seed: 1 }), 10_000);
    const b = take(createFacility({ profile: 'clinic', seed: 1 }), 10_000);
    const c = take(createFacility({ profile: 'clinic', seed: 2 }), 10_000);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const differing = a.filter((e, i) => JSON.stringify(e.body) !== JSON.stringify(c[i]?.body)).length;
    expect(differing).toBeGreaterThan(9_000);
  });

  it('emits events in time order with unique ids', () => {
    for (const events of [take(clinic, 20_000, MARCH_3_2025, 'r1'), take(hospital, 50_000, MARCH_3_2025, 'r1')]) {
      expect(new Set(events.map((e) => e.body.eventId)).size).toBe(events.length);
      for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
      expect(events[0]!.at).toBeGreaterThanOrEqual(MARCH_3_2025);
      for (const e of events) expect(Date.parse(e.body.occurredAt)).toBe(e.at);
    }
  });

  it('produces events the collector accepts as they are (strict schema)', () => {
    for (const facility of [clinic, hospital]) {
      const events = take(facility, 20_000);
      const ctx = {
        tenant: facility.tenant,
        sourceSystem: 'ehr',
        receivedAt: events.at(-1)!.at + 1_000,
        maxPastMs: 365 * 86_400_000,
        maxFutureMs: 300_000,
      };
      for (const e of events) {
        const result = parseIngestEvent(JSON.parse(JSON.stringify(e.body)), ctx);
        if (!result.ok) throw new Error(`${JSON.stringify(e.body)}: ${JSON.stringify(result.issues)}`);
        expect(result.event.occurredAt).toBe(e.at);
      }
      expect(new Set(events.map((e) => e.body.action)).size).toBeGreaterThanOrEqual(5);
    }
  });

  it('keeps a clinic inside its opening hours across the DST change, in its own zone', () => {
    for (const timeZone of ['America/New_York', 'Europe/Berlin']) {
      const facility = createFacility({ profile: 'clinic', seed: 3, timeZone });
      const events = take(facility, 15_000, Date.UTC(2025, 2, 1)); // spans US (Mar 9) and EU (Mar 30) DST
      expect(events.at(-1)!.at).toBeGreaterThan(Date.UTC(2025, 2, 31));
      const hours = new Set<number>();
      for (const e of events) {
        const { hour, weekday } = localHour(e.at, timeZone);
        expect(weekday, e.body.occurredAt).toBeGreaterThanOrEqual(1);
        expect(weekday, e.body.occurredAt).toBeLessThanOrEqual(5);
        expect(hour, e.body.occurredAt).toBeGreaterThanOrEqual(8);
        expect(hour, e.body.occurredAt).toBeLessThan(18);
        hours.add(Math.floor(hour));
      }
      expect(hours.size).toBe(10); // busy all day, 08–17
    }
  });

  it('runs a hospital around the clock, with night-shift staff doing the night work', () => {
    const events = take(hospital, 60_000);
    const night = events.filter((e) => localHour(e.at, hospital.timeZone).hour < 7);
    expect(night.length).toBeGreaterThan(1_000);
    expect(new Set(night.map((e) => e.body.action))).toContain('view');
    for (const e of night) expect(hospital.member(e.body.actor.userId)?.shift, e.body.occurredAt).toBe('night');
    // Every actor is on duty when acting, and active.
    for (const e of events) {
      const member = hospital.member(e.body.actor.userId)!;
      expect(member.status).toBe('active');
      expect(hospital.roster.isOnDuty(member, e.at), `${member.userId} ${e.body.occurredAt}`).toBe(true);
    }
    const breakGlass = events.filter((e) => e.body.action === 'break_glass');
    expect(breakGlass.length).toBeGreaterThan(0);
    for (const e of breakGlass) {
      expect(e.body.actor.department).toBe('emergency');
      expect(e.body.reason).toBeTruthy();
      expect(hospital.patient(e.body.patient!.id)?.restricted).toBe(true);
    }
    expect(events.some((e) => e.body.outcome === 'failure')).toBe(true);
    expect(events.filter((e) => e.body.action === 'query').every((e) => e.body.recordCount! >= 1)).toBe(true);
  });

  it('explains every patient access by a treatment relationship covering it', () => {
    for (const facility of [clinic, hospital]) {
      const events = take(facility, 30_000);
      const byPatient = new Map<string, TreatmentRelationship[]>();
      for (let day = facility.dayOf(MARCH_3_2025) - 14; day <= facility.dayOf(events.at(-1)!.at); day++) {
        for (const r of facility.planDay(day).relationships) {
          byPatient.set(r.patientId, [...(byPatient.get(r.patientId) ?? []), r]);
        }
      }
      let patientAccesses = 0;
      for (const e of events) {
        // A login concerns no patient and carries none; every other action names one.
        expect(e.body.patient === undefined, JSON.stringify(e.body)).toBe(e.body.action === 'login');
        if (e.body.patient === undefined) continue;
        patientAccesses += 1;
        const patient = facility.patient(e.body.patient.id);
        expect(patient?.deceasedAt).toBeUndefined();
        const covering = (byPatient.get(e.body.patient.id) ?? []).filter(
          (r) =>
            e.at >= r.accessFrom &&
            e.at <= r.accessTo &&
            (r.careTeam.includes(e.body.actor.userId) || r.departments.includes(e.body.actor.department)),
        );
        expect(covering.length, JSON.stringify(e.body)).toBeGreaterThan(0);
      }
      expect(patientAccesses).toBeGreaterThan(events.length * 0.9);
      expect(patientAccesses, 'some events are logins').toBeLessThan(events.length);
    }
  });

  it('never plans a staff member onto their own care team or into their own record', () => {
    // Seed 42 planned one such access in its first week before planners excluded the patient themself.
    const facility = createFacility({ profile: 'hospital', seed: 42 });
    const staffPatients = new Map(facility.patients.filter((p) => p.workforceUserId).map((p) => [p.id, p]));
    expect(staffPatients.size).toBeGreaterThan(50);
    let staffAccesses = 0;
    for (let day = facility.dayOf(MARCH_3_2025); day < facility.dayOf(MARCH_3_2025) + 14; day++) {
      const plan = facility.planDay(day);
      for (const r of plan.relationships) {
        const self = staffPatients.get(r.patientId)?.workforceUserId;
        if (self !== undefined) expect(r.careTeam).not.toContain(self);
      }
      for (const a of plan.accesses) {
        const patient = staffPatients.get(a.patientId ?? '');
        if (patient === undefined) continue;
        staffAccesses += 1;
        expect(a.userId, JSON.stringify(a)).not.toBe(patient.workforceUserId);
      }
    }
    expect(staffAccesses, 'staff are treated, by colleagues').toBeGreaterThan(100);
  });

  it('keeps memory bounded over a million events', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const generator = createTrafficGenerator({ facility: hospital, start: MARCH_3_2025 });
    const heapAfter = (n: number): number => {
      for (let i = 0; i < n; i++) generator.next();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const early = heapAfter(200_000);
    const late = heapAfter(800_000);
    console.log(
      `heap after 200k events: ${(early / 2 ** 20).toFixed(1)} MiB, after 1M: ${(late / 2 ** 20).toFixed(1)} MiB`,
    );
    // Five times the events; a generator that kept them would need several hundred MiB more.
    expect(late).toBeLessThan(early * 1.5);
  }, 120_000);
});
