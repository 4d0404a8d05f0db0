import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '@phi-audit/console-accounts';
import { ACCESS_VOLUME_BUCKETS, type AccessVolumeBucket, type AccessVolumeStore } from '@phi-audit/ledger';
import { foldCases, SEVERITIES, type AlertReviewStore, type CaseStore } from '@phi-audit/rules';
import { caseCounts, utcDay } from './case-views.js';
import { ROUTE_ERROR_BODY_SCHEMA, zodRouteOptions } from './route-schema.js';

/**
 * The console dashboard (issue 6 item 7): access volume over time, the alert backlog and the
 * cases with the nearest breach-notice deadline, for one tenant. Counts only, no patient, user
 * or free text: every role may read it (auditors included) and it is not recorded as a
 * disclosure. The ledger's verification status is its own route; the UI shows both.
 */

export interface DashboardRoutesOptions {
  review: AlertReviewStore;
  cases: CaseStore;
  ledger: AccessVolumeStore;
  /** Epoch ms of "now". Default Date.now. */
  now?: () => number;
}

const DAY = 86_400_000;
export const DEFAULT_DASHBOARD_DAYS = 14;

export const DashboardQuerySchema = z.strictObject({
  days: z
    .string()
    .regex(/^\d{1,3}$/, 'days must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'days must be at least 1').max(365, 'days must be at most 365'))
    .optional()
    .describe(`Days of access volume, 1 to 365 (default ${DEFAULT_DASHBOARD_DAYS}); hourly buckets up to 3 days`),
});

const count = z.number().int();
export const DashboardResponseSchema = z.object({
  days: count,
  volume: z.object({
    bucket: z.enum(['hour', 'day']),
    from: count.describe('Epoch ms, inclusive: start of the first bucket'),
    to: count.describe('Epoch ms, exclusive: end of the current bucket'),
    buckets: z
      .array(z.object({ start: count, events: count, failures: count, users: count }))
      .describe('Only buckets holding events, start ascending'),
  }),
  alerts: z.object({
    open: count,
    byRule: z.record(z.string(), count),
    bySeverity: z.partialRecord(z.enum(SEVERITIES), count),
    oldestOpenFirstEventAt: count.optional(),
    backlog: z
      .object({ under1d: count, d1to7: count, d7to30: count, over30: count })
      .describe('Every open alert by age of its first event: [0,1), [1,7), [7,30), 30+ days'),
  }),
  cases: z.object({
    open: count,
    investigating: count,
    closed: count,
    nextDeadline: z
      .object({ caseId: z.string(), deadline: z.string(), daysRemaining: count })
      .optional()
      .describe('The earliest individual-notice deadline of a case not closed whose breach clock runs'),
  }),
});
export type DashboardResponse = z.infer<typeof DashboardResponseSchema>;

/** Registers `GET /tenants/:tenant/dashboard` on `fastify`. */
export function registerDashboardRoutes(fastify: FastifyInstance, options: DashboardRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { review, cases, ledger } = options;
  const now = options.now ?? Date.now;

  app.get(
    '/tenants/:tenant/dashboard',
    {
      config: { access: { roles: ROLES, tenantScoped: true } },
      ...zodRouteOptions({
        tags: ['dashboard'],
        summary: 'Access volume, alert backlog and case deadlines of the tenant (counts only: not recorded)',
        params: z.strictObject({ tenant: z.string().min(1).max(256) }),
        querystring: DashboardQuerySchema,
        response: { 200: DashboardResponseSchema, '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA },
      }),
    },
    async (request) => {
      const { tenant } = request.params;
      const days = request.query.days ?? DEFAULT_DASHBOARD_DAYS;
      const at = now();
      const bucket: AccessVolumeBucket = days <= 3 ? 'hour' : 'day';
      const width = ACCESS_VOLUME_BUCKETS[bucket];
      // Whole buckets, ending with the current one (so today's or this hour's count grows).
      const to = Math.floor(at / width) * width + width;
      const from = to - days * DAY;
      // Counts aggregated by the stores: one query each, however long the log or the backlog.
      const [buckets, summary, caseEvents] = await Promise.all([
        ledger.accessVolume({ tenant, from, to, bucket }),
        review.reviewSummary(tenant, at),
        cases.tenantCaseEvents(tenant),
      ]);
      request.log.debug({ tenant, days, buckets: buckets.length, open: summary.open }, 'dashboard');
      const { openByAge, ...alerts } = summary;
      return {
        days,
        volume: { bucket, from, to, buckets },
        alerts: { ...alerts, backlog: openByAge },
        cases: caseCounts(foldCases(caseEvents), utcDay(at)),
      };
    },
  );
}
