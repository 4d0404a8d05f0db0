import { z } from 'zod';
import { instant } from './search-schemas.js';

/**
 * Input of the console's evidence export and the ledger status (issue 6). Strict, as every
 * console input: an unknown field is a 400 naming it.
 */

const idString = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} must be at most 256 characters`)
    .refine((s) => s.isWellFormed(), `${what} contains an unpaired UTF-16 surrogate`);

/** Most event ids one export names (the store looks them up in one query). */
export const MAX_EVIDENCE_EVENT_IDS = 10_000;

/** An instant in a JSON body: epoch ms as a number, or a string as the search takes it. */
const bodyInstant = (what: string) =>
  z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), instant(what)], {
    error: `${what} must be ISO 8601 with a zone, a date, or epoch ms`,
  });

export const TenantParamsSchema = z.strictObject({ tenant: idString('tenant') });

/** `{ eventIds }`, or `{ patientId | userId, from?, to? }` (from inclusive, to exclusive). */
export const EvidenceBodySchema = z
  .strictObject({
    eventIds: z
      .array(idString('eventIds[]'))
      .min(1, 'eventIds must name at least one event')
      .max(MAX_EVIDENCE_EVENT_IDS, `eventIds must name at most ${MAX_EVIDENCE_EVENT_IDS} events`)
      .optional(),
    patientId: idString('patientId').optional(),
    userId: idString('userId').optional(),
    from: bodyInstant('from').optional(),
    to: bodyInstant('to').optional(),
  })
  .superRefine((b, ctx) => {
    const given = [b.eventIds, b.patientId, b.userId].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of eventIds, patientId, userId', path: [] });
    }
    if (b.eventIds !== undefined && (b.from !== undefined || b.to !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'from and to apply to patientId and userId only', path: ['from'] });
    }
    if (b.from !== undefined && b.to !== undefined && b.from >= b.to) {
      ctx.addIssue({ code: 'custom', message: 'from must be before to', path: ['from'] });
    }
  });
export type EvidenceBody = z.infer<typeof EvidenceBodySchema>;

/** One log's status (LogStatus of @phi-audit/ledger). */
export const LogStatusSchema = z.object({
  origin: z.string(),
  size: z.number().int(),
  checkpoint: z.object({ size: z.number().int(), timestamp: z.number().int(), keyName: z.string() }).nullable(),
  signatureValid: z.boolean(),
  uncheckpointed: z.number().int(),
  rootMatchesTiles: z.boolean().nullable(),
  problems: z.array(z.string()),
  checkedAt: z.number().int(),
});

export const LedgerStatusResponseSchema = z.object({
  tenant: z.string(),
  /** Labels (name+key ID) of the verifier keys the signatures were checked with; none configured: none is valid. */
  verifierKeys: z.array(z.string()),
  logs: z.array(LogStatusSchema),
});
