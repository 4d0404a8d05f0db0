import { z } from 'zod';
import {
  ALERT_DECISIONS,
  ALERT_STATUSES,
  AlertDecisionSchema,
  AlertSchema,
  MAX_DECISION_REASON_LENGTH,
  SEVERITIES,
} from '@phi-audit/rules';

/**
 * Input of the alert review routes (issue 6 item 3). Strict: an unknown query or body field is
 * a 400 naming it, not silently ignored, so a typo in a filter never widens a result.
 */

const idString = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} must be at most 256 characters`)
    .refine((s) => s.isWellFormed(), `${what} contains an unpaired UTF-16 surrogate`);

const alertIdString = z.string().regex(/^[0-9a-f]{64}$/, 'alertId must be 64 lowercase hex digits');
const day = (what: string) => z.string().regex(/^\d{4}-\d{2}-\d{2}$/, `${what} must be a day, YYYY-MM-DD`);
const intString = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

/** Default page size of the review list; the store allows at most 1000. */
export const DEFAULT_ALERT_PAGE = 50;
/** Largest bulk decision. */
export const MAX_BULK_DECISION = 500;

export const TenantParamsSchema = z.strictObject({ tenant: idString('tenant') });
export const AlertParamsSchema = z.strictObject({ tenant: idString('tenant'), alertId: alertIdString });

/** `status` may repeat (`?status=open&status=escalated`) or be comma-separated. */
const statuses = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')))
  .pipe(
    z
      .array(z.enum(ALERT_STATUSES))
      .min(1)
      .max(ALERT_STATUSES.length * 4),
  );

export const AlertListQuerySchema = z
  .strictObject({
    status: statuses.optional(),
    rule: idString('rule').optional(),
    user: idString('user').optional(),
    patient: idString('patient').optional(),
    minSeverity: z.enum(SEVERITIES).optional(),
    /** Alerts' local days, inclusive. */
    from: day('from').optional(),
    to: day('to').optional(),
    sort: z.enum(['risk', 'day']).optional(),
    limit: intString('limit', 1, 1000).optional(),
    offset: intString('offset', 0, 100_000).optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });
export type AlertListQuery = z.infer<typeof AlertListQuerySchema>;

const reason = z
  .string({ error: 'reason is required' })
  .max(MAX_DECISION_REASON_LENGTH, `reason must be at most ${MAX_DECISION_REASON_LENGTH} characters`)
  .refine((r) => r.trim().length >= 3, 'a reason of at least 3 characters is required');

export const DecisionBodySchema = z.strictObject({ decision: z.enum(ALERT_DECISIONS), reason });

export const BulkDecisionBodySchema = z.strictObject({
  alertIds: z
    .array(alertIdString)
    .min(1, 'alertIds must name at least one alert')
    .max(MAX_BULK_DECISION, `alertIds must name at most ${MAX_BULK_DECISION} alerts`),
  decision: z.enum(ALERT_DECISIONS),
  reason,
});

// Answers (for the OpenAPI document; the serializer checks each answer against them).

/** One page of the review list. */
export const AlertListResponseSchema = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  items: z.array(
    z.object({
      alert: AlertSchema,
      status: z.enum(ALERT_STATUSES),
      decision: AlertDecisionSchema.optional(),
    }),
  ),
});

/** The dashboard's counts of open alerts. */
export const AlertSummaryResponseSchema = z.object({
  open: z.number().int(),
  byRule: z.record(z.string(), z.number().int()),
  bySeverity: z.partialRecord(z.enum(SEVERITIES), z.number().int()),
  oldestOpenFirstEventAt: z.number().int().optional(),
});

export const DecisionResponseSchema = z.object({ status: z.enum(ALERT_STATUSES), decision: z.enum(ALERT_DECISIONS) });
export const BulkDecisionResponseSchema = z.object({ decided: z.number().int(), decision: z.enum(ALERT_DECISIONS) });
