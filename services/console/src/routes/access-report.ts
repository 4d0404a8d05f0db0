import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConsoleAuditTrail, ConsoleUser } from '@phi-audit/console-audit';
import type { Role } from '@phi-audit/console-accounts';
import type { AccessQueryStore, AccessRow } from '@phi-audit/ledger';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { principalOf } from '../route-access.js';
import { accessReportHtml } from './access-report-html.js';
import { sendAuditFailure } from './route-errors.js';
import { zodRouteOptions } from './route-schema.js';
import { DenseInstantError, scanAccesses } from './search-scan.js';
import { AccessReportQuerySchema, PatientParamsSchema } from './search-schemas.js';

/**
 * The patient access report (issue 6 item 6): everyone who accessed one patient's record in a
 * period, grouped by user with the role and department the events carried, for answering a
 * patient's "who looked at my record?". Recorded in the ledger before it is sent (item 8).
 * The console's own look-ups of the patient are accesses too and appear as `console:<user>`.
 * Access events carry no display name the ledger keeps per row, so users have none here.
 */

export interface AccessReportRoutesOptions {
  ledger: AccessQueryStore;
  audit: ConsoleAuditTrail;
  /** Epoch ms, the default end of the period. Default Date.now. */
  now?: () => number;
}

/** One user's accesses to the patient in the period. */
export interface AccessReportUser {
  userId: string;
  /** The latest role and department the user's events named ('' when none did). */
  role: string;
  department: string;
  accesses: number;
  /** Epoch ms of the first and last access in the period. */
  first: number;
  last: number;
  /** Accesses per action (view, update, print, …). */
  actions: Record<string, number>;
}

export interface AccessReport {
  patientId: string;
  /** The period, epoch ms: `from` inclusive, `to` exclusive. */
  from: number;
  to: number;
  totalAccesses: number;
  /** True when the period held more than MAX_REPORT_ACCESSES accesses (the newest are counted). */
  truncated: boolean;
  /** Most recent access first. */
  users: AccessReportUser[];
}

const REPORTERS: readonly Role[] = ['privacy_officer', 'admin'];
/** HIPAA's accounting of disclosures looks back six years: the default period. */
const DEFAULT_PERIOD_MS = 6 * 365 * 24 * 3_600_000;
/** Most accesses one report counts. */
export const MAX_REPORT_ACCESSES = 200_000;

function consoleUserOf(request: FastifyRequest): ConsoleUser {
  const p = principalOf(request);
  return { username: p.username, role: p.role, ip: p.ip };
}

/** Groups a patient's accesses (any order) by user, most recent access first. */
export function groupAccessesByUser(rows: readonly AccessRow[]): AccessReportUser[] {
  const byUser = new Map<string, AccessReportUser & { roleAt: number; departmentAt: number }>();
  for (const r of rows) {
    let u = byUser.get(r.userId);
    if (u === undefined) {
      u = {
        userId: r.userId,
        role: '',
        department: '',
        accesses: 0,
        first: r.occurredAt,
        last: r.occurredAt,
        actions: {},
        roleAt: -1,
        departmentAt: -1,
      };
      byUser.set(r.userId, u);
    }
    u.accesses++;
    u.first = Math.min(u.first, r.occurredAt);
    u.last = Math.max(u.last, r.occurredAt);
    u.actions[r.action] = (u.actions[r.action] ?? 0) + 1;
    if (r.userRole !== undefined && r.occurredAt > u.roleAt) [u.role, u.roleAt] = [r.userRole, r.occurredAt];
    if (r.userDepartment !== undefined && r.occurredAt > u.departmentAt) {
      [u.department, u.departmentAt] = [r.userDepartment, r.occurredAt];
    }
  }
  return [...byUser.values()]
    .map(({ roleAt: _r, departmentAt: _d, ...user }) => user)
    .sort((a, b) => b.last - a.last || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

/** Registers `GET /tenants/:tenant/patients/:patientId/access-report` on `app`. */
export function registerAccessReportRoutes(fastify: FastifyInstance, options: AccessReportRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ledger, audit } = options;
  const now = options.now ?? Date.now;

  app.get(
    '/tenants/:tenant/patients/:patientId/access-report',
    {
      config: { access: { roles: REPORTERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: "Everyone who accessed one patient's record in a period (recorded before it is sent)",
        params: PatientParamsSchema,
        querystring: AccessReportQuerySchema,
      }),
    },
    async (request, reply) => {
      const { params, query: q } = request;
      // `to` is exclusive: the default period includes an access at this very millisecond.
      const to = q.to ?? Math.max(now() + 1, q.from ?? 0);
      const from = q.from ?? Math.max(0, to - DEFAULT_PERIOD_MS);
      let rows: AccessRow[];
      let truncated: boolean;
      try {
        const found = await scanAccesses(ledger, {
          tenant: params.tenant,
          patientId: params.patientId,
          from,
          to,
          limit: MAX_REPORT_ACCESSES,
          maxScan: MAX_REPORT_ACCESSES,
        });
        rows = found.items;
        truncated = found.next !== undefined;
      } catch (error) {
        if (!(error instanceof DenseInstantError)) throw error;
        return reply.code(422).send({
          error: { code: 'CONSOLE_SEARCH_TOO_DENSE', message: 'too many accesses share one millisecond' },
        });
      }
      try {
        await audit.record({
          kind: 'patient_access_report',
          tenant: params.tenant,
          user: consoleUserOf(request),
          patientId: params.patientId,
          from,
          to,
          resultCount: rows.length,
        });
      } catch (error) {
        if (sendAuditFailure(reply, error)) return reply;
        throw error;
      }
      const report: AccessReport = {
        patientId: params.patientId,
        from,
        to,
        totalAccesses: rows.length,
        truncated,
        users: groupAccessesByUser(rows),
      };
      request.log.info({ tenant: params.tenant, accesses: rows.length }, 'patient access report');
      void reply.header('cache-control', 'no-store');
      if (q.format === 'html') {
        // Inline style only; no scripts, frames or external loads even if escaping were bypassed.
        return reply
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .type('text/html; charset=utf-8')
          .send(accessReportHtml(report));
      }
      return reply.send(report);
    },
  );
}
