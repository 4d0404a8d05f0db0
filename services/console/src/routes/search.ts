import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleAuditTrail, ConsoleUser } from '@phi-audit/console-audit';
import type { Role } from '@phi-audit/console-accounts';
import type { AccessQueryStore, AccessRow } from '@phi-audit/ledger';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { principalOf } from '../route-access.js';
import { sendAuditFailure } from './route-errors.js';
import { zodRouteOptions } from './route-schema.js';
import { accessesToCsv } from './search-csv.js';
import { DenseInstantError, scanAccesses, type AccessScanResult } from './search-scan.js';
import {
  CsvQuerySchema,
  DEFAULT_CSV_ROWS,
  DEFAULT_SEARCH_PAGE,
  encodeCursor,
  SearchQuerySchema,
  TenantParamsSchema,
  type SearchQuery,
} from './search-schemas.js';

/**
 * The investigator search of the access log and its CSV export (issue 6 item 5) under
 * `/api/tenants/:tenant/accesses`. Every page and every export is recorded in the ledger as a
 * console access naming the patients it discloses BEFORE anything is sent (item 8): when the
 * ledger does not acknowledge, the answer is 503 and nothing read is disclosed.
 *
 * `patient` or `user` picks the store's indexed query (both: by patient, filtered by user);
 * `action` and `workstation` are filtered here because the store's queries have no such filter
 * (search-scan.ts). Auditors ("no PHI search") are not allowed.
 */

export interface SearchRoutesOptions {
  ledger: AccessQueryStore;
  audit: ConsoleAuditTrail;
  /** Unused by the search itself; accepted so every console route group takes the same clock. */
  now?: () => number;
}

const SEARCHERS: readonly Role[] = ['investigator', 'privacy_officer', 'admin'];

/** Relative to the console's `/api` prefix (registerConsole's `routes` instance). */
const PREFIX = '/tenants/:tenant/accesses';

/** Most rows one JSON page examines before answering with a cursor (filters are applied here). */
const MAX_SCAN_PER_PAGE = 50_000;
/** Most rows one CSV export examines. */
const MAX_SCAN_PER_EXPORT = 500_000;

/** Response header carrying the cursor of a CSV export that stopped before the window's end. */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

function consoleUserOf(request: FastifyRequest): ConsoleUser {
  const p = principalOf(request);
  return { username: p.username, role: p.role, ip: p.ip };
}

/** The distinct patients of the rows, in first-seen order. */
export function patientsOf(rows: readonly AccessRow[]): string[] {
  return [...new Set(rows.flatMap((r) => (r.patientId !== undefined ? [r.patientId] : [])))];
}

function sendTooDense(reply: FastifyReply): FastifyReply {
  return reply.code(422).send({
    error: {
      code: 'CONSOLE_SEARCH_TOO_DENSE',
      message: 'too many accesses share one millisecond to page through; narrow the time window',
    },
  });
}

/** The store scan of a parsed query; undefined (answered 422) for an instant too dense to page. */
async function scan(
  ledger: AccessQueryStore,
  tenant: string,
  q: SearchQuery,
  limit: number,
  maxScan: number,
  reply: FastifyReply,
): Promise<AccessScanResult | undefined> {
  try {
    return await scanAccesses(ledger, {
      tenant,
      patientId: q.patient,
      userId: q.user,
      from: q.from,
      to: q.to,
      action: q.action,
      workstation: q.workstation,
      limit,
      cursor: q.cursor,
      maxScan,
    });
  } catch (error) {
    if (!(error instanceof DenseInstantError)) throw error;
    void sendTooDense(reply);
    return undefined;
  }
}

/** The filters a search record keeps (workstation has no field in the console action). */
function recordedFilters(q: SearchQuery) {
  return {
    ...(q.patient !== undefined ? { patientId: q.patient } : {}),
    ...(q.user !== undefined ? { userId: q.user } : {}),
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
    ...(q.action !== undefined ? { action: q.action } : {}),
  };
}

/** Registers the search and CSV export routes on `app` (each declares its access). */
export function registerSearchRoutes(fastify: FastifyInstance, options: SearchRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ledger, audit } = options;

  app.get(
    PREFIX,
    {
      config: { access: { roles: SEARCHERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: "Search the tenant's access log by patient or user (each page is recorded before it is sent)",
        params: TenantParamsSchema,
        querystring: SearchQuerySchema,
      }),
    },
    async (request, reply) => {
      const { params, query: q } = request;
      const limit = q.limit ?? DEFAULT_SEARCH_PAGE;
      const page = await scan(ledger, params.tenant, q, limit, MAX_SCAN_PER_PAGE, reply);
      if (page === undefined) return reply;
      try {
        await audit.record({
          kind: 'search',
          tenant: params.tenant,
          user: consoleUserOf(request),
          filters: recordedFilters(q),
          patientIds: patientsOf(page.items),
          resultCount: page.items.length,
        });
      } catch (error) {
        if (sendAuditFailure(reply, error)) return reply;
        throw error;
      }
      request.log.debug({ tenant: params.tenant, items: page.items.length }, 'access search page');
      return reply
        .header('cache-control', 'no-store')
        .send({ items: page.items, limit, next: page.next !== undefined ? encodeCursor(page.next) : null });
    },
  );

  app.get(
    `${PREFIX}.csv`,
    {
      config: { access: { roles: SEARCHERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary: 'The same search as CSV, as an attachment (recorded before it is sent)',
        params: TenantParamsSchema,
        querystring: CsvQuerySchema,
      }),
    },
    async (request, reply) => {
      const { params, query: q } = request;
      const result = await scan(ledger, params.tenant, q, q.limit ?? DEFAULT_CSV_ROWS, MAX_SCAN_PER_EXPORT, reply);
      if (result === undefined) return reply;
      const csv = accessesToCsv(result.items);
      try {
        await audit.record({
          kind: 'export_csv',
          tenant: params.tenant,
          user: consoleUserOf(request),
          what: 'accesses',
          rowCount: result.items.length,
          ...(q.patient !== undefined ? { patientId: q.patient } : {}),
          patientIds: patientsOf(result.items),
        });
      } catch (error) {
        if (sendAuditFailure(reply, error)) return reply;
        throw error;
      }
      request.log.info({ tenant: params.tenant, rows: result.items.length }, 'access csv exported');
      if (result.next !== undefined) void reply.header(NEXT_CURSOR_HEADER, encodeCursor(result.next));
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="accesses.csv"')
        .type('text/csv; charset=utf-8')
        .send(csv);
    },
  );
}
