import type { AccessEvent } from '@phi-audit/schema';
import { alertId, mergeAlert, MAX_EVIDENCE, MAX_EXPLANATION_LENGTH, type Alert, type Severity } from './alert.js';
import {
  type ClosedDay,
  createDayClock,
  type DayTally,
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
  /**
   * At most this many patient-level alerts per rule, user and local day (default: no limit). A
   * rule that keeps firing for one user — a chart-by-chart export raising no-treatment-relationship
   * for every patient — then collects the further patients in one user-level alert of that rule,
   * so the officer reads one summary instead of hundreds of alerts.
   */
  readonly maxPatientAlertsPerRuleUserDay?: number;
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

/** What a day-level rule sees when a local day of one tenant closes. Read it; keep no reference. */
export interface DayContext<P, R> {
  tenant: string;
  policy: P;
  reference: R;
  /** The closed day with every user's final tally (users with at least one patient event), by user id. */
  closed: ClosedDay;
}

/** A user-level finding about a closed day; the alert's evidence is that user's tally evidence. */
export interface DayFinding extends RuleFinding {
  /** Must be one of `closed.users`. */
  userId: string;
}

/** A detection rule: a pure function of its context. Return NO_FINDINGS when nothing fired. */
export interface Rule<P, R> {
  readonly id: string;
  /** Whether the tenant's policy enables this rule; absent = always on. */
  enabled?(policy: P): boolean;
  evaluate(ctx: RuleContext<P, R>): readonly RuleFinding[];
  /**
   * Optional: called once per tenant and closed local day (at the first eviction sweep after the
   * watermark passed its end — within one window hop — or when the
   * input ended: see Detector.flush), oldest day first, before the event that closed it is
   * evaluated. For rules that compare users with each other over a whole day.
   */
  evaluateDay?(ctx: DayContext<P, R>): readonly DayFinding[];
}

/** The shared empty result: returning it costs no allocation per event. */
export const NO_FINDINGS: readonly RuleFinding[] = Object.freeze([]);
/** The shared empty result of `evaluateDay`. */
export const NO_DAY_FINDINGS: readonly DayFinding[] = Object.freeze([]);

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
   *
   * With `endOfInput` (a replay or a bounded batch is over) it first closes every open day, so
   * day-level rules see them, and moves each tenant's watermark past them: later events of those
   * days count as late. Without it, days close only as event time moves past them.
   *
   * With `now` (wall clock, given by a caller whose input has gone quiet) the day-level rules also
   * run over open days that ended more than the allowed lateness before `now` — once per day, without
   * closing it: a clinic's Friday is compared with its peers over the weekend instead of on Monday.
   * The real close runs them again; alert ids make that a merge.
   */
  flush(options?: { endOfInput?: boolean; now?: number }): Alert[];
  stats(): DetectorStats;
}

interface HeldAlert {
  alert: Alert;
  dirty: boolean;
  dayEndMs: number;
}

interface TenantState<P, R> {
  state: WindowState;
  /** Open days already evaluated early by `flush({ now })`; forgotten when they really close. */
  evaluatedEarly: Set<string>;
  ctx: RuleContext<P, R>;
  alerts: Map<string, HeldAlert>;
  /** Patient-level alerts created per (rule, user, day), for maxPatientAlertsPerRuleUserDay; evicted with the day. */
  patientAlertCounts: Map<string, { count: number; dayEndMs: number }>;
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
        evaluatedEarly: new Set(),
        patientAlertCounts: new Map(),
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

  /**
   * The finding itself, or — once the (rule, user, day) has `max` patient-level alerts and this
   * finding would open another — the same finding as the user-level overflow alert of that rule.
   */
  function capped(
    ts: TenantState<P, R>,
    ruleId: string,
    event: AccessEvent,
    f: RuleFinding,
    max: number | undefined,
  ): RuleFinding {
    if (max === undefined || f.patientId === undefined) return f;
    const day = ts.ctx.window.day;
    const key = `${ruleId}\u0000${event.actor.userId}\u0000${day.key}`;
    const patientAlertId = alertId({
      tenant: event.tenant,
      ruleId,
      userId: event.actor.userId,
      patientId: f.patientId,
      day: day.key,
    });
    if (ts.alerts.has(patientAlertId)) return f; // merging into an alert that exists costs nothing
    let counted = ts.patientAlertCounts.get(key);
    if (counted === undefined) {
      counted = { count: 0, dayEndMs: day.endMs };
      ts.patientAlertCounts.set(key, counted);
    }
    if (counted.count < max) {
      counted.count += 1;
      return f;
    }
    return {
      severity: f.severity,
      riskScore: f.riskScore,
      explanation:
        `${f.explanation} More than ${max} patients raised this rule for the same user on ${day.key}; ` +
        'this alert collects the further ones (see the evidence).',
    };
  }

  const dayRules = rules.filter((r) => r.evaluateDay !== undefined);

  function dayAlert(tenant: string, ruleId: string, f: DayFinding, day: string, tally: DayTally): Alert {
    const riskScore = Math.min(100, Math.max(0, Math.round(f.riskScore)));
    const explanation =
      f.explanation.length > MAX_EXPLANATION_LENGTH ? f.explanation.slice(0, MAX_EXPLANATION_LENGTH) : f.explanation;
    const alert: Alert = {
      alertId: alertId({ tenant, ruleId, userId: f.userId, patientId: f.patientId, day }),
      tenant,
      ruleId,
      userId: f.userId,
      day,
      severity: f.severity,
      riskScore,
      explanation,
      evidence: tally.evidence.slice(0, MAX_EVIDENCE),
      truncated: tally.events > Math.min(tally.evidence.length, MAX_EVIDENCE),
      firstEventAt: tally.firstEventAt,
      lastEventAt: tally.lastEventAt,
    };
    if (f.patientId !== undefined) alert.patientId = f.patientId;
    return alert;
  }

  /** Runs the day rules on closed days; new alerts are pushed to `raised`, repeats merged (and marked dirty). */
  function evaluateDays(tenant: string, ts: TenantState<P, R>, days: readonly ClosedDay[], raised: Alert[]): void {
    for (const closed of days) ts.evaluatedEarly.delete(closed.day.key);
    if (days.length === 0 || dayRules.length === 0) return;
    const policy = policyFor(tenant);
    const reference = referenceFor(tenant);
    for (const closed of days) {
      let byUser: Map<string, DayTally> | undefined;
      for (const rule of dayRules) {
        if (rule.enabled !== undefined && !rule.enabled(policy)) continue;
        const findings = rule.evaluateDay!({ tenant, policy, reference, closed });
        for (const f of findings) {
          byUser ??= new Map(closed.users.map((u) => [u.userId, u]));
          const tally = byUser.get(f.userId);
          if (tally === undefined) throw new Error(`rule ${rule.id} reported user ${f.userId} absent from the day`);
          const alert = dayAlert(tenant, rule.id, f, closed.day.key, tally);
          const held = ts.alerts.get(alert.alertId);
          if (held === undefined) {
            ts.alerts.set(alert.alertId, { alert, dirty: false, dayEndMs: closed.day.endMs });
            raised.push({ ...alert, evidence: [...alert.evidence] });
          } else {
            held.alert = mergeAlert(held.alert, alert);
            held.dirty = true;
          }
        }
      }
    }
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
      const closedDays = ts.state.takeClosedDays();
      if (closedDays.length > 0 && dayRules.length > 0) {
        raised = [];
        evaluateDays(event.tenant, ts, closedDays, raised);
      }
      for (const rule of rules) {
        if (rule.enabled !== undefined && !rule.enabled(ctx.policy)) continue;
        const findings = rule.evaluate(ctx);
        for (const found of findings) {
          const f = capped(ts, rule.id, event, found, ctx.policy.maxPatientAlertsPerRuleUserDay);
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

    flush(options) {
      const out: Alert[] = [];
      for (const [tenant, ts] of tenants) {
        if (options?.endOfInput === true) {
          // New alerts of the closed days are emitted by this flush itself.
          evaluateDays(tenant, ts, ts.state.closeAllDays(), out);
        } else if (options?.now !== undefined && dayRules.length > 0) {
          const ended = ts.state
            .endedDays(options.now - policyFor(tenant).window.latenessMs)
            .filter((d) => !ts.evaluatedEarly.has(d.day.key));
          evaluateDays(tenant, ts, ended, out);
          for (const d of ended) ts.evaluatedEarly.add(d.day.key);
        }
        const watermark = ts.state.watermark();
        for (const [id, held] of ts.alerts) {
          if (held.dirty) {
            out.push(held.alert);
            held.dirty = false;
          }
          if (held.dayEndMs <= watermark) ts.alerts.delete(id);
        }
        for (const [key, counted] of ts.patientAlertCounts) {
          if (counted.dayEndMs <= watermark) ts.patientAlertCounts.delete(key);
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
