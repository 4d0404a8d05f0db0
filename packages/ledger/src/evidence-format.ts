/**
 * Evidence bundles, format and shared checks: a self-contained file that proves to a third party, offline and without
 * access to the store, that some access events are in the ledger. Format `phi-audit/evidence/v1`.
 *
 * The file is EXACTLY the RFC 8785 canonical JSON (canonicalJson) of one object, followed by one
 * "\n" (UTF-8, no BOM):
 *
 *   {
 *     "format": "phi-audit/evidence/v1",
 *     "keys": [<verifier key text>, …],            sorted, no duplicates
 *     "checkpoints": [{ "note": <signed checkpoint note> }, …],   sorted by log origin, one per log
 *     "records": [{                                  sorted by (origin, index), no duplicates
 *       "origin": <log>, "index": <n>, "sourceOffset": <n>, "eventId": <id>,
 *       "eventJson": <RFC 8785 JSON of the AccessEvent>,
 *       "proof": [<lowercase hex SHA-256>, …]        RFC 9162 inclusion proof in the tree of that
 *     }, …]                                           log's checkpoint size
 *   }
 *
 * Verification (verifyEvidenceBundle) leaves no byte unchecked, so changing any byte of a valid
 * bundle makes it fail: the text must be the canonical serialisation of what it parses to; the
 * schema is strict (no unknown or missing fields, hashes as lowercase hex); each key is in its
 * canonical text form (its key ID is checked against name and key) and verifies at least one
 * checkpoint; every signature line of every note is verified by a bundled key (the note parser
 * rejects non-canonical base64); every checkpoint is used by a record; each record's eventJson is
 * the canonical JSON of a valid AccessEvent with the record's eventId; the leaf hash recomputed
 * from (origin, index, sourceOffset, eventId, eventJson) is proven by `proof` to be leaf `index`
 * of the tree whose root the log's checkpoint signs. There are deliberately no free-text fields
 * (no creation time, no query description): nothing could vouch for them.
 *
 * The bundled keys prove only that the bundle is self-consistent. A verifier establishes trust by
 * passing the published key(s) as `trustedKeys` (or by comparing the printed key name and ID with
 * the published one).
 */
import { AccessEventSchema, CodedError, codedErrorGuard, type AccessEvent } from '@phi-audit/schema';
import { z } from 'zod';
import { isCanonicalJsonText } from './canonical-check.js';

/** The format tag of a v1 evidence bundle. */
export const EVIDENCE_FORMAT = 'phi-audit/evidence/v1';

/** Why an evidence bundle cannot be built (stable codes). */
export const EVIDENCE_ERROR_CODES = {
  /** The caller's input cannot make a bundle (no records, no trusted key, conflicting rows, …). */
  EVIDENCE_INPUT_INVALID: 'EVIDENCE_INPUT_INVALID',
  /** A record's log has no checkpoint covering it yet. */
  EVIDENCE_NOT_CHECKPOINTED: 'EVIDENCE_NOT_CHECKPOINTED',
  /** A checkpoint is malformed or does not verify with the trusted keys. */
  EVIDENCE_CHECKPOINT_UNTRUSTED: 'EVIDENCE_CHECKPOINT_UNTRUSTED',
  /** A stored record is inconsistent (leaf hash does not match its fields, eventJson invalid). */
  EVIDENCE_RECORD_INVALID: 'EVIDENCE_RECORD_INVALID',
  /** An inclusion proof built from the stored tiles does not lead to the checkpoint's root. */
  EVIDENCE_PROOF_FAILED: 'EVIDENCE_PROOF_FAILED',
} as const;

export type EvidenceErrorCode = keyof typeof EVIDENCE_ERROR_CODES;

/** Errors of buildEvidenceBundle (verification reports problems instead of throwing). Messages name logs and indexes, never event contents. */
export class EvidenceError extends CodedError<EvidenceErrorCode> {
  override readonly name = 'EvidenceError';
}

export const isEvidenceError = codedErrorGuard(EvidenceError);

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const HASH_HEX = /^[0-9a-f]{64}$/;

/** The bundle's content, strictly: unknown fields are rejected, never ignored. */
export const EvidenceBundleSchema = z.strictObject({
  format: z.literal(EVIDENCE_FORMAT),
  keys: z.array(z.string()).min(1),
  checkpoints: z.array(z.strictObject({ note: z.string() })).min(1),
  records: z
    .array(
      z.strictObject({
        origin: z.string().min(1),
        index: z.number().int().min(0).max(MAX_SAFE),
        sourceOffset: z.number().int().min(0).max(MAX_SAFE),
        eventId: z.string().min(1),
        eventJson: z.string().min(1),
        // A proof has at most one hash per tree level: 64 is beyond any safe-integer tree.
        proof: z.array(z.string().regex(HASH_HEX, 'must be a lowercase hex SHA-256')).max(64),
      }),
    )
    .min(1),
});

export type EvidenceBundleContent = z.infer<typeof EvidenceBundleSchema>;

/** `name+8 hex digit key ID`, how people compare keys. */
export function verifierKeyLabel(key: { name: string; keyId: number }): string {
  return `${key.name}+${key.keyId.toString(16).padStart(8, '0')}`;
}

/** An error's message and code, for problem messages. */
export function describeCause(err: unknown): string {
  if (err instanceof CodedError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** Orders strings by UTF-16 code units (RFC 8785's order, and `<`'s). */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The event a record's eventJson holds, or why it is not acceptable. */
export function checkEventJson(
  eventJson: string,
  eventId: string,
): { ok: true; event: AccessEvent } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(eventJson);
  } catch {
    return { ok: false, reason: 'eventJson is not JSON' };
  }
  if (!isCanonicalJsonText(eventJson, parsed))
    return { ok: false, reason: 'eventJson is not in RFC 8785 canonical form' };
  const event = AccessEventSchema.safeParse(parsed);
  if (!event.success) {
    const fields = event.error.issues.map((i) => i.path.join('.') || '(event)').join(', ');
    return { ok: false, reason: `eventJson is not a valid AccessEvent (fields: ${fields})` };
  }
  if (event.data.eventId !== eventId) return { ok: false, reason: "eventJson's eventId differs from the record's" };
  return { ok: true, event: event.data };
}
