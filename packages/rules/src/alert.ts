import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * What the detector writes: one alert per (tenant, rule, user, patient, local day), however
 * often the rule fires that day. The id is derived from exactly that key, so replaying events
 * yields the same ids and a store that upserts by `alertId` (merging with mergeAlert) never
 * holds duplicates.
 *
 * Explanations are plain language built by rules from the facts that triggered them: rule
 * ids, counts, thresholds, times and names taken from reference data. Rules must never copy
 * free-text event fields (a break-the-glass `reason`, `actor.name`, resource ids) into an
 * explanation: those are attacker-controlled and may carry PHI the alert viewer should not see.
 */

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Evidence kept per alert; beyond it `truncated` is set. Bounds alert size for a bulk reader. */
export const MAX_EVIDENCE = 100;
/** Upper bound on an explanation, so a rule bug cannot produce megabyte alerts. */
export const MAX_EXPLANATION_LENGTH = 1000;

const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * One event an alert rests on. `eventId` is unique only per source (the ingest idempotency
 * key is (source, eventId)), so the source system is part of the reference.
 */
export const EvidenceSchema = z.strictObject({
  source: z.string().min(1),
  eventId: z.string().min(1),
  occurredAt: epochMs,
});
export type Evidence = z.infer<typeof EvidenceSchema>;

export const AlertSchema = z
  .strictObject({
    alertId: z.string().regex(/^[0-9a-f]{64}$/, 'alertId must be 64 lowercase hex digits'),
    tenant: z.string().min(1),
    ruleId: z.string().min(1),
    userId: z.string().min(1),
    patientId: z.string().min(1).optional(),
    /** Local calendar day of the triggering events in the tenant's time zone. */
    day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'day must be YYYY-MM-DD'),
    severity: z.enum(SEVERITIES),
    riskScore: z.number().int().min(0).max(100),
    explanation: z.string().min(1).max(MAX_EXPLANATION_LENGTH),
    /** At most MAX_EVIDENCE, deduplicated, the earliest by (occurredAt, source, eventId). */
    evidence: z.array(EvidenceSchema).max(MAX_EVIDENCE),
    /** True when more events supported the alert than `evidence` holds. */
    truncated: z.boolean(),
    firstEventAt: epochMs,
    lastEventAt: epochMs,
  })
  .refine((a) => a.firstEventAt <= a.lastEventAt, { message: 'firstEventAt must not be after lastEventAt' });
export type Alert = z.infer<typeof AlertSchema>;

/** The dedupe key of an alert. `patientId` is absent for user-level alerts (bulk reads). */
export interface AlertKey {
  tenant: string;
  ruleId: string;
  userId: string;
  patientId?: string | undefined;
  day: string;
}

const DOMAIN = 'phi-audit/alert/v1';

/**
 * Hex SHA-256 over a domain tag and the key fields, each prefixed by its UTF-8 byte length
 * (4 bytes, big-endian), so no two different keys frame to the same bytes whatever the
 * fields contain. A missing patient frames as '', which no patient id can be (ids are non-empty).
 */
export function alertId(key: AlertKey): string {
  const hash = createHash('sha256');
  const len = Buffer.allocUnsafe(4);
  for (const part of [DOMAIN, key.tenant, key.ruleId, key.userId, key.patientId ?? '', key.day]) {
    const bytes = Buffer.from(part, 'utf8');
    len.writeUInt32BE(bytes.length, 0);
    hash.update(len);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

function compareEvidence(a: Evidence, b: Evidence): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.eventId !== b.eventId) return a.eventId < b.eventId ? -1 : 1;
  return 0;
}

/**
 * Merges two firings of the same alert (same alertId). The result does not depend on the
 * order or repetition of merges (commutative, associative, idempotent), so the engine, a
 * replay and the store's upsert all converge on the same alert: evidence is the union, sorted
 * by event time and cut to the earliest MAX_EVIDENCE; risk and severity are the maximum; the
 * explanation is the one of the riskier firing (ties broken by text, to stay order-free).
 */
export function mergeAlert(existing: Alert, next: Alert): Alert {
  if (existing.alertId !== next.alertId) {
    throw new Error(`cannot merge alerts with different ids (${existing.alertId}, ${next.alertId})`);
  }
  const all = [...existing.evidence, ...next.evidence].sort(compareEvidence);
  const evidence: Evidence[] = [];
  for (const e of all) {
    const prev = evidence[evidence.length - 1];
    if (prev !== undefined && compareEvidence(prev, e) === 0) continue;
    evidence.push(e);
  }
  const truncated = existing.truncated || next.truncated || evidence.length > MAX_EVIDENCE;
  if (evidence.length > MAX_EVIDENCE) evidence.length = MAX_EVIDENCE;
  const explainedBy =
    next.riskScore > existing.riskScore ||
    (next.riskScore === existing.riskScore && next.explanation < existing.explanation)
      ? next
      : existing;
  return {
    ...existing,
    severity: SEVERITY_RANK[next.severity] > SEVERITY_RANK[existing.severity] ? next.severity : existing.severity,
    riskScore: Math.max(existing.riskScore, next.riskScore),
    explanation: explainedBy.explanation,
    evidence,
    truncated,
    firstEventAt: Math.min(existing.firstEventAt, next.firstEventAt),
    lastEventAt: Math.max(existing.lastEventAt, next.lastEventAt),
  };
}
