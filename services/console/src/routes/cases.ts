import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Role } from '@phi-audit/console-accounts';
import type { ConsoleAction } from '@phi-audit/console-audit';
import { foldCases, type CaseEvent } from '@phi-audit/rules';
import { principalOf } from '../route-access.js';
import { consoleUserOf, createCaseWriter, type CaseRoutesOptions } from './case-changes.js';
import {
  AssessmentBodySchema,
  BreachFactsBodySchema,
  CaseDetailSchema,
  CaseListQuerySchema,
  CaseListResponseSchema,
  CaseParamsSchema,
  CaseResponseSchema,
  CaseTenantParamsSchema,
  LinkAlertsBodySchema,
  NoteBodySchema,
  OpenCaseBodySchema,
  StatusBodySchema,
} from './case-schemas.js';
import { reviewedAlerts, tenantAlerts } from './alert-lookup.js';
import { caseDetailOf, caseSummaryOf, patientsOf, utcDay } from './case-views.js';
import { sendNotFound, type RouteErrorBody } from './route-errors.js';
import { ROUTE_ERROR_BODY_SCHEMA, zodRouteOptions } from './route-schema.js';

/**
 * The console's case routes (issue 6 item 4) under `/api/tenants/:tenant/cases`. A case is a
 * list of appended events (CaseStore); every answer folds them. A case page names the patients
 * of its alerts, so it is recorded in the ledger through the console audit trail BEFORE it is
 * sent (view_case), and every change is recorded before it is stored (case_update, plus a
 * `decide` for alerts escalated into the case): when the ledger does not acknowledge, the answer
 * is 503 and nothing is stored or disclosed. Titles, notes and reasons are free text: never
 * logged, never in the audit events. Readers: privacy officers, investigators and admins
 * (investigators may add notes); changes: privacy officers and admins.
 */

export type { CaseRoutesOptions } from './case-changes.js';

const READERS: readonly Role[] = ['privacy_officer', 'investigator', 'admin'];
const CHANGERS: readonly Role[] = ['privacy_officer', 'admin'];
const PREFIX = '/tenants/:tenant/cases';
const ERRORS = { '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA } as const;

/** Registers the case routes on `fastify` (each declares its access; the app checks sessions). */
export function registerCaseRoutes(fastify: FastifyInstance, options: CaseRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { detection } = options;
  const { now, newId, loadCase, recorded, changeCase, applyChange } = createCaseWriter(options);

  const route = <S extends object>(roles: readonly Role[], schema: S) => ({
    config: { access: { roles, tenantScoped: true } },
    ...zodRouteOptions({ tags: ['cases'], ...schema }),
  });
  const caseAnswer = { 200: CaseDetailSchema, ...ERRORS };

  app.get(
    PREFIX,
    route(READERS, {
      summary: "The tenant's cases, newest first, each with its breach clock (no patients named: not recorded)",
      params: CaseTenantParamsSchema,
      querystring: CaseListQuerySchema,
      response: { 200: CaseListResponseSchema, ...ERRORS },
    }),
    async (request) => {
      const { tenant } = request.params;
      const wanted = request.query.status !== undefined ? new Set(request.query.status) : undefined;
      const today = utcDay(now());
      const views = foldCases(await detection.tenantCaseEvents(tenant)).filter(
        (v) => wanted === undefined || wanted.has(v.status),
      );
      views.sort((a, b) => b.openedAt - a.openedAt || (a.caseId < b.caseId ? -1 : 1));
      return { items: views.map((v) => caseSummaryOf(v, today)) };
    },
  );

  app.post(
    PREFIX,
    route(CHANGERS, {
      summary: 'Open a case from alerts of the tenant; each alert is escalated into it (recorded before stored)',
      params: CaseTenantParamsSchema,
      body: OpenCaseBodySchema,
      response: { 201: CaseResponseSchema, ...ERRORS },
    }),
    async (request, reply) => {
      const { tenant } = request.params;
      const body = request.body;
      const alertIds = [...new Set(body.alertIds)];
      const alerts = await tenantAlerts(detection, tenant, alertIds, 'all');
      if (alerts === undefined) return sendNotFound(reply);
      const at = now();
      const event: CaseEvent = {
        kind: 'opened',
        tenant,
        caseId: newId(),
        eventId: newId(),
        at,
        by: principalOf(request).username,
        title: body.title,
        summary: body.summary,
        alertIds,
        discoveredOn: body.discoveredOn ?? utcDay(at),
      };
      const detail = await applyChange(request, reply, { event, escalate: alerts, reason: body.summary }, alerts);
      return detail === undefined ? reply : reply.code(201).send({ case: detail });
    },
  );

  app.get(
    `${PREFIX}/:caseId`,
    route(READERS, {
      summary: 'A case with its alerts, breach clock and history (recorded as view_case before it is sent)',
      params: CaseParamsSchema,
      response: caseAnswer,
    }),
    async (request, reply) => {
      const { tenant, caseId } = request.params;
      const view = await loadCase(tenant, caseId);
      if (view === undefined) return sendNotFound(reply);
      const reviewed = (await reviewedAlerts(detection, tenant, view.alertIds, 'existing')) ?? [];
      const detail = caseDetailOf(view, reviewed, utcDay(now()));
      const action: ConsoleAction = {
        kind: 'view_case',
        tenant,
        user: consoleUserOf(request),
        caseId,
        patientIds: patientsOf(reviewed.map((r) => r.alert)),
        alertCount: reviewed.length,
      };
      if (!(await recorded(reply, [action]))) return reply;
      return reply.send(detail);
    },
  );

  app.post(
    `${PREFIX}/:caseId/notes`,
    route(READERS, { summary: 'Add a note', params: CaseParamsSchema, body: NoteBodySchema, response: caseAnswer }),
    (request, reply) =>
      changeCase(request, reply, request.params, (common) => ({
        event: { ...common, kind: 'note', text: request.body.text },
        escalate: [],
      })),
  );

  app.post(
    `${PREFIX}/:caseId/status`,
    route(CHANGERS, {
      summary: 'Change the status (open, investigating, closed; a closed case can be reopened)',
      params: CaseParamsSchema,
      body: StatusBodySchema,
      response: caseAnswer,
    }),
    (request, reply) =>
      changeCase(request, reply, request.params, (common) => ({
        event: { ...common, kind: 'status', status: request.body.status, reason: request.body.reason },
        escalate: [],
      })),
  );

  app.post(
    `${PREFIX}/:caseId/alerts`,
    route(CHANGERS, {
      summary: 'Link more alerts of the tenant; each newly linked alert is escalated into the case',
      params: CaseParamsSchema,
      body: LinkAlertsBodySchema,
      response: caseAnswer,
    }),
    (request, reply) =>
      changeCase(request, reply, request.params, async (common, view) => {
        const linked = new Set(view.alertIds);
        const ids = [...new Set(request.body.alertIds)].filter((id) => !linked.has(id));
        if (ids.length === 0) {
          const body: RouteErrorBody = {
            error: { code: 'CONSOLE_INVALID_REQUEST', message: 'invalid request: body.alertIds: already linked' },
          };
          void reply.code(400).send(body);
          return undefined;
        }
        const alerts = await tenantAlerts(detection, common.tenant, ids, 'all');
        if (alerts === undefined) {
          void sendNotFound(reply);
          return undefined;
        }
        return {
          event: { ...common, kind: 'alerts_linked', alertIds: ids },
          escalate: alerts,
          reason: request.body.reason,
        };
      }),
  );

  app.post(
    `${PREFIX}/:caseId/assessment`,
    route(CHANGERS, {
      summary: 'Record the breach risk assessment (45 CFR 164.402(2)); the latest one stands',
      params: CaseParamsSchema,
      body: AssessmentBodySchema,
      response: caseAnswer,
    }),
    (request, reply) =>
      changeCase(request, reply, request.params, (common) => ({
        event: { ...common, kind: 'assessment', ...request.body },
        escalate: [],
      })),
  );

  app.post(
    `${PREFIX}/:caseId/breach-facts`,
    route(CHANGERS, {
      summary: 'Record the discovery day and the people affected (the breach clock runs on them)',
      params: CaseParamsSchema,
      body: BreachFactsBodySchema,
      response: caseAnswer,
    }),
    (request, reply) =>
      changeCase(request, reply, request.params, (common) => ({
        event: { ...common, kind: 'breach_facts', ...request.body },
        escalate: [],
      })),
  );
}
