import type { AccessEvent } from '@phi-audit/schema';
import { alertId, mergeAlert, MAX_EXPLANATION_LENGTH, type Alert, type Severity } from './alert.js';
import {
  createDayClock,
  createWindowState,
  type Observation,
  type WindowSettings,
  type WindowState,
  type WindowStats,
} from './window-state.js';

/** What the engine itself needs from a tenant's policy; rules read their own sections. */
export interface EnginePolicy {
  /** IANA zone: alert days and daily counts are local days there. */
  readonly timeZone: string;
  /** Read when the tenant is first seen; changing it needs a new detector. */
  readonly window: WindowSettings;
}

/** One reason a rule fired. The engine turns it into an alert keyed by (rule, user, patient, day). */
export interface RuleFinding {
  severity: Severity;
  /** 0–100. */
  riskScore: number;
  /** Plain language; names only from reference data, never free-text event fields. */
  explanation: string;
  /** Set for patient-level alerts; absent for user-level ones (bulk reads: one alert per user and day). */
  patientId?: string;
}

/**
 * What a rule sees. The engine reuses one context object per tenant across events: a rule
 * reads it during `evaluate` and keeps no reference to it.
 */
export interface RuleContext<P, R> {
  event: AccessEvent;
  policy: P;
  reference: R;
  /** The state after recording this event (or `late: true` when the event was too old to record). */
  window: Observation;
}

/** A detection rule: a pure function of its context. Return NO_FINDINGS when nothing fired. */
export interface Rule<P, R> {
  readonly id: string;
  /** Whether the tenant's policy enables this rule; absent = always on. */
  enabled?(policy: P): boolean;
  evaluate(ctx: RuleContext<P, R>): readonly RuleFinding[];
}

/** The shared empty result: returning it costs no allocation per event. */
export const NO_FINDINGS: readonly RuleFinding[] = Object.freeze([]);

export interface DetectorOptions<P extends EnginePolicy, R> {
  /** Each rule may require less of the policy and reference than the detector is given. */
  rules: readonly Rule<NoInfer<P>, NoInfer<R>>[];
  /** Called per event: return a cached object, not a fresh parse. */
  policyFor: (tenant: string) => P;
  referenceFor: (tenant: string) => R;
}

export interface DetectorStats {
  tenants: number;
  openAlerts: number;
  dirtyAlerts: number;
  window: WindowStats;
}

export interface Detector {
  /**
   * Runs every enabled rule on the event. Returns the alerts this event raised for the first
   * time (since they were last evicted); later firings merge into the held alert and surface
   * through flush(). The same events in the same order always give the same results.
   */
  process(event: AccessEvent): Alert[];
  /**
   * Returns the current state of every alert created or changed since the last flush, then
   * forgets alerts whose local day is behind the watermark. Call it periodically (the service
   * upserts the result by alertId) and at the end of input; it also bounds alert memory.
   */
  flush(): Alert[];
  stats(): DetectorStats;
}

interface HeldAlert {
  alert: Alert;
  dirty: boolean;
  dayEndMs: number;
}

interface TenantState<P, R> {
  state: WindowState;
  ctx: RuleContext<P, R>;
  alerts: Map<string, HeldAlert>;
}

/** Creates a detector that owns all state; rules stay pure. */
export function createDetector<P extends EnginePolicy, R>(options: DetectorOptions<P, R>): Detector {
  const { rules, policyFor, referenceFor } = options;
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) throw new Error(`duplicate rule id ${rule.id}`);
    ids.add(rule.id);
  }
  const tenants = new Map<string, TenantState<P, R>>();

  function tenantState(event: AccessEvent): TenantState<P, R> {
    let ts = tenants.get(event.tenant);
    if (ts === undefined) {
      const policy = policyFor(event.tenant);
      ts = {
        state: createWindowState({ settings: policy.window, dayClock: createDayClock(policy.timeZone) }),
        ctx: { event, policy, reference: referenceFor(event.tenant), window: undefined as unknown as Observation },
        alerts: new Map(),
      };
      tenants.set(event.tenant, ts);
    }
    return ts;
  }

  function toAlert(event: AccessEvent, ruleId: string, f: RuleFinding, day: string): Alert {
    const riskScore = Math.min(100, Math.max(0, Math.round(f.riskScore)));
    const explanation =
      f.explanation.length > MAX_EXPLANATION_LENGTH ? f.explanation.slice(0, MAX_EXPLANATION_LENGTH) : f.explanation;
    const key = { tenant: event.tenant, ruleId, userId: event.actor.userId, patientId: f.patientId, day };
    const alert: Alert = {
      alertId: alertId(key),
      tenant: event.tenant,
      ruleId,
      userId: event.actor.userId,
      day,
      severity: f.severity,
      riskScore,
      explanation,
      evidence: [{ source: event.source.system, eventId: event.eventId, occurredAt: event.occurredAt }],
      truncated: false,
      firstEventAt: event.occurredAt,
      lastEventAt: event.occurredAt,
    };
    if (f.patientId !== undefined) alert.patientId = f.patientId;
    return alert;
  }

  return {
    process(event) {
      const ts = tenantState(event);
      const ctx = ts.ctx;
      ctx.event = event;
      ctx.policy = policyFor(event.tenant);
      ctx.reference = referenceFor(event.tenant);
      ctx.window = ts.state.observe(event);
      let raised: Alert[] | undefined;
      for (const rule of rules) {
        if (rule.enabled !== undefined && !rule.enabled(ctx.policy)) continue;
        const findings = rule.evaluate(ctx);
        for (const f of findings) {
          const alert = toAlert(event, rule.id, f, ctx.window.day.key);
          const held = ts.alerts.get(alert.alertId);
          if (held === undefined) {
            ts.alerts.set(alert.alertId, { alert, dirty: false, dayEndMs: ctx.window.day.endMs });
            (raised ??= []).push({ ...alert, evidence: [...alert.evidence] });
          } else {
            held.alert = mergeAlert(held.alert, alert);
            held.dirty = true;
          }
        }
      }
      return raised ?? [];
    },

    flush() {
      const out: Alert[] = [];
      for (const ts of tenants.values()) {
        const watermark = ts.state.watermark();
        for (const [id, held] of ts.alerts) {
          if (held.dirty) {
            out.push(held.alert);
            held.dirty = false;
          }
          if (held.dayEndMs <= watermark) ts.alerts.delete(id);
        }
      }
      return out;
    },

    stats() {
      let openAlerts = 0;
      let dirtyAlerts = 0;
      const window: WindowStats = {
        users: 0,
        windows: 0,
        windowEntries: 0,
        days: 0,
        dayEntries: 0,
        pairs: 0,
        lateEvents: 0,
        watermark: -Infinity,
      };
      for (const ts of tenants.values()) {
        openAlerts += ts.alerts.size;
        for (const h of ts.alerts.values()) if (h.dirty) dirtyAlerts++;
        const s = ts.state.stats();
        window.users += s.users;
        window.windows += s.windows;
        window.windowEntries += s.windowEntries;
        window.days += s.days;
        window.dayEntries += s.dayEntries;
        window.pairs += s.pairs;
        window.lateEvents += s.lateEvents;
        window.watermark = Math.max(window.watermark, s.watermark);
      }
      return { tenants: tenants.size, openAlerts, dirtyAlerts, window };
    },
  };
}
