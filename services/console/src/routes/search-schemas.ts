import { z } from 'zod';
import { ACTIONS } from '@phi-audit/schema';

/**
 * Input of the investigator search, its CSV export and the patient access report (issue 6 items
 * 5 and 6). Strict: an unknown query field is a 400 naming it, so a typo in a filter never widens
 * a result. Times are ISO 8601 with a zone (or a bare date, taken as UTC midnight) or epoch ms;
 * `from` is inclusive and `to` exclusive, as in the ledger's access queries.
 */

const idString = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} must be at most 256 characters`)
    .refine((s) => s.isWellFormed(), `${what} contains an unpaired UTF-16 surrogate`);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An instant as epoch ms: digits are epoch ms, anything else must be ISO 8601 with a zone. */
export const instant = (what: string) =>
  z.string({ error: `${what} must be a string` }).transform((s, ctx) => {
    const ms = /^\d{1,16}$/.test(s) ? Number(s) : ISO_TIME.test(s) ? Date.parse(s) : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `${what} must be ISO 8601 with a zone, a date, or epoch ms` });
      return z.NEVER;
    }
    return ms;
  });

const intString = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

/** Where a page ended: the position (event time, origin, index) of the last row examined. */
export interface AccessCursor {
  occurredAt: number;
  origin: string;
  index: number;
}

const CursorTupleSchema = z.tuple([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z.string().min(1).max(600),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);

/** The opaque `cursor` a page answers with: base64url of the position's JSON. */
export function encodeCursor(c: AccessCursor): string {
  return Buffer.from(JSON.stringify([c.occurredAt, c.origin, c.index]), 'utf8').toString('base64url');
}

const cursorString = z
  .string()
  .max(1200, 'cursor is too long')
  .transform((s, ctx) => {
    let decoded: unknown;
    try {
      decoded = /^[A-Za-z0-9_-]+$/.test(s) ? JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) : undefined;
    } catch {
      decoded = undefined;
    }
    const parsed = CursorTupleSchema.safeParse(decoded);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'cursor is not one this console issued' });
      return z.NEVER;
    }
    const [occurredAt, origin, index] = parsed.data;
    return { occurredAt, origin, index } satisfies AccessCursor;
  });

/** Default and largest page of the search; largest CSV export. */
export const DEFAULT_SEARCH_PAGE = 100;
export const MAX_SEARCH_PAGE = 500;
export const MAX_CSV_ROWS = 50_000;
export const DEFAULT_CSV_ROWS = MAX_CSV_ROWS;

const searchFields = (maxLimit: number) => ({
  patient: idString('patient').optional(),
  user: idString('user').optional(),
  from: instant('from').optional(),
  to: instant('to').optional(),
  action: z.enum(ACTIONS, { error: `action must be one of ${ACTIONS.join(', ')}` }).optional(),
  workstation: idString('workstation').optional(),
  limit: intString('limit', 1, maxLimit).optional(),
  cursor: cursorString.optional(),
});

interface SearchShape {
  patient?: string | undefined;
  user?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

const searchRefinements = <S extends z.ZodType<SearchShape>>(schema: S) =>
  schema
    .refine((q) => q.patient !== undefined || q.user !== undefined, {
      message: 'patient or user is required',
      path: ['patient'],
    })
    .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
      message: 'from must not be after to',
      path: ['from'],
    });

export const SearchQuerySchema = searchRefinements(z.strictObject(searchFields(MAX_SEARCH_PAGE)));
export type SearchQuery = z.infer<typeof SearchQuerySchema>;

export const CsvQuerySchema = searchRefinements(z.strictObject(searchFields(MAX_CSV_ROWS)));
export type CsvQuery = z.infer<typeof CsvQuerySchema>;

export const TenantParamsSchema = z.strictObject({ tenant: idString('tenant') });
export const PatientParamsSchema = z.strictObject({ tenant: idString('tenant'), patientId: idString('patientId') });

export const AccessReportQuerySchema = z
  .strictObject({
    from: instant('from').optional(),
    to: instant('to').optional(),
    format: z.enum(['json', 'html']).optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });
export type AccessReportQuery = z.infer<typeof AccessReportQuerySchema>;
