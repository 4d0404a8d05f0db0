import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleAction, ConsoleAuditTrail, ConsoleUser } from '@phi-audit/console-audit';
import {
  foldCase,
  type Alert,
  type AlertReviewStore,
  type CaseEvent,
  type CaseStore,
  type CaseView,
} from '@phi-audit/rules';
import { principalOf } from '../route-access.js';
import { reviewedAlerts, tenantAlerts } from './alert-lookup.js';
import { caseDetailOf, patientsOf, utcDay } from './case-views.js';
import { sendAuditFailure, sendNotFound } from './route-errors.js';

/**
 * How the case routes change a case: record in the ledger (case_update, and `decide` for the
 * alerts escalated into it) BEFORE storing, then store the case event, then the escalations,
 * then answer the case page as it is afterwards. When the ledger does not acknowledge, the
 * answer is 503 and nothing is stored. Free text (titles, notes, reasons) is never logged.
 */

export interface CaseRoutesOptions {
  /** Cases, and the alerts they link with their review decisions. */
  detection: CaseStore & AlertReviewStore;
  audit: ConsoleAuditTrail;
  /** Epoch ms of case events and decisions; its UTC date is the breach clock's today. Default Date.now. */
  now?: () => number;
  /** Case and event ids. Default randomUUID. */
  newId?: () => string;
}

/** The audit trail's view of the request's console user. */
export function consoleUserOf(request: FastifyRequest): ConsoleUser {
  const p = principalOf(request);
  return { username: p.username, role: p.role, ip: p.ip };
}

/** A change a route makes: the event, and the alerts it escalates into the case (opened, linked). */
export interface CaseChange {
  event: CaseEvent;
  escalate: readonly Alert[];
  /** The reason of the escalated decisions. */
  reason?: string;
}

/** The case routes' reads and writes, bound to their stores, audit trail and clock. */
export function createCaseWriter(options: CaseRoutesOptions) {
  const { detection, audit } = options;
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;

  async function loadCase(tenant: string, caseId: string): Promise<CaseView | undefined> {
    const events = await detection.caseEvents(tenant, caseId);
    return events.length === 0 ? undefined : foldCase(events);
  }

  /** Records the actions in order; on failure answers it (503/500) and returns false. */
  async function recorded(reply: FastifyReply, actions: readonly ConsoleAction[]): Promise<boolean> {
    try {
      for (const action of actions) await audit.record(action);
      return true;
    } catch (error) {
      if (sendAuditFailure(reply, error)) return false;
      throw error;
    }
  }

  /**
   * Records, then stores one change of a case whose alerts (after the change) are `alerts`, and
   * answers the case page as it is afterwards. Returns undefined when an answer was sent.
   */
  async function applyChange(
    request: FastifyRequest,
    reply: FastifyReply,
    change: CaseChange,
    alerts: readonly Alert[],
  ) {
    const { event, escalate } = change;
    const user = consoleUserOf(request);
    const actions: ConsoleAction[] = [];
    if (escalate.length > 0) {
      actions.push({
        kind: 'decide',
        tenant: event.tenant,
        user,
        decision: 'escalated',
        alerts: escalate.map((a) => ({
          alertId: a.alertId,
          ...(a.patientId !== undefined ? { patientId: a.patientId } : {}),
        })),
      });
    }
    actions.push({
      kind: 'case_update',
      tenant: event.tenant,
      user,
      caseId: event.caseId,
      change: event.kind,
      patientIds: patientsOf(alerts),
    });
    if (!(await recorded(reply, actions))) return undefined;
    // The case first: an alert escalated into a case that was not stored would point nowhere.
    await detection.appendCaseEvents([event]);
    if (escalate.length > 0) {
      await detection.decide(
        escalate.map((a) => ({
          tenant: event.tenant,
          alertId: a.alertId,
          decision: 'escalated' as const,
          reason: change.reason ?? event.kind,
          decidedBy: user.username,
          decidedAt: event.at,
          caseId: event.caseId,
        })),
      );
    }
    request.log.info({ tenant: event.tenant, change: event.kind, escalated: escalate.length }, 'case event stored');
    const view = await loadCase(event.tenant, event.caseId);
    if (view === undefined) throw new Error('a case just appended to cannot be read back');
    // Statuses as they are after the escalations just stored.
    const after = await reviewedAlerts(
      detection,
      event.tenant,
      alerts.map((a) => a.alertId),
      'existing',
    );
    const statuses = new Map(after?.map((r) => [r.alert.alertId, r.status]));
    const items = alerts.map((alert) => ({ alert, status: statuses.get(alert.alertId) ?? ('open' as const) }));
    return caseDetailOf(view, items, utcDay(now()));
  }

  /**
   * The change routes but opening: the case must be the tenant's (404); `build` makes the event
   * from the common fields, or answers itself and returns undefined.
   */
  async function changeCase(
    request: FastifyRequest,
    reply: FastifyReply,
    params: { tenant: string; caseId: string },
    build: (
      common: { tenant: string; caseId: string; eventId: string; at: number; by: string },
      view: CaseView,
    ) => CaseChange | undefined | Promise<CaseChange | undefined>,
  ) {
    const view = await loadCase(params.tenant, params.caseId);
    if (view === undefined) return sendNotFound(reply);
    // Strictly after the case's last event: events of one millisecond fold in eventId order
    // (random), and a change must fold after what it was made on.
    const at = Math.max(now(), view.updatedAt + 1);
    const common = { ...params, eventId: newId(), at, by: principalOf(request).username };
    const change = await build(common, view);
    if (change === undefined) return reply;
    const ids = [...new Set([...view.alertIds, ...change.escalate.map((a) => a.alertId)])];
    const alerts = (await tenantAlerts(detection, params.tenant, ids, 'existing')) ?? [];
    const detail = await applyChange(request, reply, change, alerts);
    return detail === undefined ? reply : reply.send(detail);
  }

  return { now, newId, loadCase, recorded, applyChange, changeCase };
}
