import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleAuditTrail, ConsoleUser } from '@phi-audit/console-audit';
import type { Role } from '@phi-audit/console-accounts';
import type { AlertDecision, AlertReviewStore, DetectionStore, ReviewQuery } from '@phi-audit/rules';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { principalOf } from '../route-access.js';
import { loadAlertContext, patientsDisclosed, type AlertContextLedger } from './alert-context.js';
import { tenantAlerts } from './alert-lookup.js';
import {
  AlertListQuerySchema,
  AlertListResponseSchema,
  AlertParamsSchema,
  AlertSummaryResponseSchema,
  BulkDecisionBodySchema,
  BulkDecisionResponseSchema,
  DecisionBodySchema,
  DecisionResponseSchema,
  DEFAULT_ALERT_PAGE,
  TenantParamsSchema,
} from './alert-route-schemas.js';
import { sendAuditFailure, sendNotFound } from './route-errors.js';
import { ROUTE_ERROR_BODY_SCHEMA, zodRouteOptions } from './route-schema.js';

/**
 * The console's alert review routes (issue 6 item 3) under `/api/tenants/:tenant/alerts`.
 * Every view of PHI and every decision is recorded in the ledger through the console audit
 * trail BEFORE anything is sent (item 8): when the ledger does not acknowledge, the answer is
 * 503 and nothing read is disclosed, and no decision is stored.
 *
 * Roles (roles.ts): the auditor is read-only with "no PHI search", and an alert row is PHI (it
 * pairs a workforce member with a patient and explains why the access looked wrong), so auditors
 * get only the dashboard summary (counts per rule and severity); the list and the detail are for
 * privacy officers, investigators and admins; only privacy officers and admins decide.
 */

export interface AlertRoutesOptions {
  review: AlertReviewStore;
  detection: Pick<DetectionStore, 'alert'>;
  ledger: AlertContextLedger;
  audit: ConsoleAuditTrail;
  /** Epoch ms of decisions. Default Date.now. */
  now?: () => number;
}

const READERS: readonly Role[] = ['privacy_officer', 'investigator', 'admin'];
const DECIDERS: readonly Role[] = ['privacy_officer', 'admin'];
const EVERYONE: readonly Role[] = ['privacy_officer', 'investigator', 'admin', 'auditor'];

/** Relative to the console's `/api` prefix (registerConsole's `routes` instance). */
const PREFIX = '/tenants/:tenant/alerts';

function consoleUserOf(request: FastifyRequest): ConsoleUser {
  const p = principalOf(request);
  return { username: p.username, role: p.role, ip: p.ip };
}

function isUnknownAlert(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'STORE_UNKNOWN_ALERT';
}

/** Registers the alert review routes on `app` (each declares its access; the app checks sessions). */
export function registerAlertRoutes(fastify: FastifyInstance, options: AlertRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { review, detection, ledger, audit } = options;
  const now = options.now ?? Date.now;

  /**
   * Records the decision, then stores it: a decision the ledger did not acknowledge is not
   * taken. Answers 404 (nothing recorded or stored) when any alert is not the tenant's.
   */
  async function decide(
    request: FastifyRequest,
    reply: FastifyReply,
    tenant: string,
    alertIds: readonly string[],
    body: { decision: AlertDecision['decision']; reason: string },
  ): Promise<boolean> {
    // One review query per 1000 ids, however many the bulk decision names.
    const alerts = await tenantAlerts(review, tenant, alertIds, 'all');
    if (alerts === undefined) {
      void sendNotFound(reply);
      return false;
    }
    const user = consoleUserOf(request);
    try {
      await audit.record({
        kind: 'decide',
        tenant,
        user,
        decision: body.decision,
        alerts: alerts.map((a) => ({
          alertId: a.alertId,
          ...(a.patientId !== undefined ? { patientId: a.patientId } : {}),
        })),
      });
    } catch (error) {
      if (sendAuditFailure(reply, error)) return false;
      throw error;
    }
    const decidedAt = now();
    try {
      await review.decide(
        alerts.map((a) => ({
          tenant,
          alertId: a.alertId,
          decision: body.decision,
          reason: body.reason,
          decidedBy: user.username,
          decidedAt,
        })),
      );
    } catch (error) {
      // An alert removed between the look-up and the write: still all or nothing.
      if (!isUnknownAlert(error)) throw error;
      void sendNotFound(reply);
      return false;
    }
    request.log.info({ tenant, alerts: alerts.length, decision: body.decision }, 'alert decisions stored');
    return true;
  }

  app.get(
    PREFIX,
    {
      config: { access: { roles: READERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: "Review list of the tenant's alerts (recorded as a console search naming the patients shown)",
        params: TenantParamsSchema,
        querystring: AlertListQuerySchema,
        response: { 200: AlertListResponseSchema, '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA },
      }),
    },
    async (request, reply) => {
      const { params, query: q } = request;
      const limit = q.limit ?? DEFAULT_ALERT_PAGE;
      const offset = q.offset ?? 0;
      const query: ReviewQuery = {
        tenant: params.tenant,
        limit,
        offset,
        sort: q.sort ?? 'risk',
        ...(q.status !== undefined ? { statuses: [...new Set(q.status)] } : {}),
        ...(q.rule !== undefined ? { ruleId: q.rule } : {}),
        ...(q.user !== undefined ? { userId: q.user } : {}),
        ...(q.patient !== undefined ? { patientId: q.patient } : {}),
        ...(q.minSeverity !== undefined ? { minSeverity: q.minSeverity } : {}),
        ...(q.from !== undefined ? { fromDay: q.from } : {}),
        ...(q.to !== undefined ? { toDay: q.to } : {}),
      };
      const page = await review.reviewList(query);
      const patientIds = [...new Set(page.items.flatMap((i) => (i.alert.patientId ? [i.alert.patientId] : [])))];
      try {
        // A page of alerts discloses the patients on it: one search record per page, naming them.
        await audit.record({
          kind: 'search',
          tenant: params.tenant,
          user: consoleUserOf(request),
          filters: {
            ...(q.patient !== undefined ? { patientId: q.patient } : {}),
            ...(q.user !== undefined ? { userId: q.user } : {}),
          },
          patientIds,
          resultCount: page.items.length,
        });
      } catch (error) {
        if (sendAuditFailure(reply, error)) return reply;
        throw error;
      }
      request.log.debug({ tenant: params.tenant, items: page.items.length, total: page.total }, 'alert page');
      return reply.send({ total: page.total, limit, offset, items: page.items });
    },
  );

  app.get(
    `${PREFIX}/summary`,
    {
      config: { access: { roles: EVERYONE, tenantScoped: true } },
      ...zodRouteOptions({
        summary: 'Open alerts per rule and severity (counts only: not recorded)',
        params: TenantParamsSchema,
        response: { 200: AlertSummaryResponseSchema, '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA },
      }),
    },
    async (request, reply) => {
      const { params } = request;
      // Counts only (no patient, user or explanation): not a disclosure, so not recorded.
      return reply.send(await review.reviewSummary(params.tenant));
    },
  );

  app.get(
    `${PREFIX}/:alertId`,
    {
      config: { access: { roles: READERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: 'One alert with its decisions, evidence and timelines (recorded before it is sent)',
        params: AlertParamsSchema,
      }),
    },
    async (request, reply) => {
      const { tenant, alertId } = request.params;
      const alert = await detection.alert(tenant, alertId);
      if (alert === undefined || alert.tenant !== tenant) return sendNotFound(reply);
      const [decisions, context] = await Promise.all([
        review.decisions(tenant, alertId),
        loadAlertContext(ledger, alert),
      ]);
      const user = consoleUserOf(request);
      try {
        await audit.record({
          kind: 'view_alert',
          tenant,
          user,
          alertId,
          ...(alert.patientId !== undefined ? { patientId: alert.patientId } : {}),
          evidenceCount: context.evidence.length,
        });
        // The evidence events are the user's own accesses: their patients are disclosed with the
        // user's timeline, so a user-level alert's patients each get a record too.
        await audit.record({
          kind: 'view_user_timeline',
          tenant,
          user,
          subjectUserId: alert.userId,
          patientIds: patientsDisclosed(context),
          resultCount: context.userTimeline.length,
        });
        if (alert.patientId !== undefined && context.patientTimeline !== undefined) {
          await audit.record({
            kind: 'view_patient_timeline',
            tenant,
            user,
            patientId: alert.patientId,
            resultCount: context.patientTimeline.length,
          });
        }
      } catch (error) {
        if (sendAuditFailure(reply, error)) return reply;
        throw error;
      }
      const latest = decisions[decisions.length - 1];
      return reply.send({
        alert,
        status: latest?.decision ?? 'open',
        decisions,
        evidence: context.evidence,
        missingEvidence: context.missingEvidence,
        timelineWindow: context.window,
        userTimeline: context.userTimeline,
        patientTimeline: context.patientTimeline ?? null,
      });
    },
  );

  app.post(
    `${PREFIX}/:alertId/decisions`,
    {
      config: { access: { roles: DECIDERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: 'Decide one alert (recorded in the ledger before it is stored)',
        params: AlertParamsSchema,
        body: DecisionBodySchema,
        response: { 201: DecisionResponseSchema, '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA },
      }),
    },
    async (request, reply) => {
      const { params, body } = request;
      if (!(await decide(request, reply, params.tenant, [params.alertId], body))) return reply;
      // decisions() is oldest first by decision time: the last is the status (a decision entered
      // with an earlier clock joins the history without becoming the status).
      const history = await review.decisions(params.tenant, params.alertId);
      const latest = history[history.length - 1];
      return reply.code(201).send({ status: latest?.decision ?? 'open', decision: body.decision });
    },
  );

  app.post(
    `${PREFIX}/decisions`,
    {
      config: { access: { roles: DECIDERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: 'Decide several alerts at once, all or nothing',
        params: TenantParamsSchema,
        body: BulkDecisionBodySchema,
        response: { 201: BulkDecisionResponseSchema, '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA },
      }),
    },
    async (request, reply) => {
      const { params, body } = request;
      const alertIds = [...new Set(body.alertIds)];
      if (!(await decide(request, reply, params.tenant, alertIds, body))) return reply;
      return reply.code(201).send({ decided: alertIds.length, decision: body.decision });
    },
  );
}
