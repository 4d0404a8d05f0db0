import { z } from 'zod';
import {
  AccessEventFieldsSchema,
  AccessEventSchema,
  requirePatientUnlessLogin,
  type AccessEvent,
} from './access-event.js';

/**
 * What an EHR posts to `POST /v1/events`. It is the canonical event except that
 * - `occurredAt` may be an ISO-8601 timestamp with a zone (`Z` or `±hh:mm`) or UTC epoch ms;
 * - `tenant` and `source.system` may be omitted: the ingest key supplies them, and when
 *   present they must equal the key's;
 * - `receivedAt` is the server's and may not be sent.
 */

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** Parses an ISO-8601 timestamp with an explicit zone to epoch ms, or explains why it cannot. */
export function parseTimestamp(value: string): { ok: true; ms: number } | { ok: false; message: string } {
  const m = ISO_WITH_ZONE.exec(value);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) {
      return { ok: false, message: 'has no time zone; add "Z" for UTC or an offset such as "+01:00"' };
    }
    return { ok: false, message: 'must be an ISO-8601 timestamp such as "2024-05-01T14:30:00Z" or epoch milliseconds' };
  }
  const [, , month, day, hour, minute, second, , zone, zh, zm] = m;
  if (second === '60') {
    return { ok: false, message: 'is a leap second (:60), which UTC epoch time cannot represent; send :59.999' };
  }
  if (zone !== 'Z' && (Number(zh) > 14 || Number(zm) > 59 || (Number(zh) === 14 && Number(zm) !== 0))) {
    return { ok: false, message: `has offset ${zone}, outside the real range -14:00..+14:00` };
  }
  if (
    Number(month) < 1 ||
    Number(month) > 12 ||
    Number(day) < 1 ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return { ok: false, message: 'is not a valid date and time' };
  }
  const ms = Date.parse(value);
  // Date.parse rolls 2023-02-30 over to March; reject that instead of storing a different day.
  if (!Number.isFinite(ms) || new Date(Date.parse(`${value.slice(0, 10)}T00:00:00Z`)).getUTCDate() !== Number(day)) {
    return { ok: false, message: 'is not a valid calendar date' };
  }
  return { ok: true, ms };
}

const IngestEventSchema = requirePatientUnlessLogin(
  AccessEventFieldsSchema.omit({
    receivedAt: true,
    occurredAt: true,
    tenant: true,
    source: true,
  }).extend({
    occurredAt: z.union([z.string(), z.number()], {
      error: 'occurredAt is required: an ISO-8601 timestamp with a zone, or epoch milliseconds',
    }),
    tenant: z.string({ error: 'tenant must be a string' }).optional(),
    source: AccessEventFieldsSchema.shape.source.partial({ system: true }).optional(),
  }),
);

export interface IngestContext {
  /** Tenant the ingest key belongs to; events may not name another. */
  tenant: string;
  /** Source system the ingest key belongs to; events may not name another. */
  sourceSystem: string;
  /** Server receive time, epoch ms. */
  receivedAt: number;
  /** Oldest accepted event time, as a distance before `receivedAt` (ms). */
  maxPastMs: number;
  /** Furthest accepted event time after `receivedAt` (clock skew allowance, ms). */
  maxFutureMs: number;
}

export interface EventIssue {
  /** JSON path inside the event, e.g. `actor.userId`; empty for the event as a whole. */
  path: string;
  message: string;
  /** `forbidden` when the event names a tenant or source its key may not write. */
  kind: 'invalid' | 'forbidden';
}

export type IngestResult = { ok: true; event: AccessEvent } | { ok: false; issues: EventIssue[] };

function pathOf(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** Turns zod's issues into messages an EHR integrator can act on. */
export function describeZodIssues(error: z.ZodError): EventIssue[] {
  const out: EventIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = pathOf([...issue.path, key]);
        out.push({ path, message: `unknown field "${path}" (not part of the AccessEvent schema)`, kind: 'invalid' });
      }
      continue;
    }
    const path = pathOf(issue.path);
    const missing = issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined;
    out.push({ path, message: missing ? `${path} is required` : issue.message, kind: 'invalid' });
  }
  return out;
}

/**
 * Validates one posted event and turns it into the canonical stored form.
 * Pure: the receive time and limits come from `ctx`.
 */
export function parseIngestEvent(input: unknown, ctx: IngestContext): IngestResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ path: '', message: 'each event must be a JSON object', kind: 'invalid' }] };
  }
  if ('receivedAt' in input) {
    return {
      ok: false,
      issues: [
        { path: 'receivedAt', message: 'receivedAt is set by the server and must not be sent', kind: 'invalid' },
      ],
    };
  }
  const parsed = IngestEventSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: describeZodIssues(parsed.error) };
  const raw = parsed.data;
  const issues: EventIssue[] = [];

  let occurredAt: number | undefined;
  if (typeof raw.occurredAt === 'number') {
    if (!Number.isSafeInteger(raw.occurredAt) || raw.occurredAt < 0) {
      issues.push({
        path: 'occurredAt',
        message: 'occurredAt as a number must be whole, non-negative epoch milliseconds',
        kind: 'invalid',
      });
    } else occurredAt = raw.occurredAt;
  } else {
    const t = parseTimestamp(raw.occurredAt);
    if (t.ok) occurredAt = t.ms;
    else
      issues.push({
        path: 'occurredAt',
        message: `occurredAt "${raw.occurredAt.slice(0, 40)}" ${t.message}`,
        kind: 'invalid',
      });
  }
  if (occurredAt !== undefined) {
    if (occurredAt < ctx.receivedAt - ctx.maxPastMs) {
      issues.push({
        path: 'occurredAt',
        message: `occurredAt ${new Date(occurredAt).toISOString()} is older than the accepted window (${Math.round(ctx.maxPastMs / 86_400_000)} days)`,
        kind: 'invalid',
      });
    } else if (occurredAt > ctx.receivedAt + ctx.maxFutureMs) {
      issues.push({
        path: 'occurredAt',
        message: `occurredAt ${new Date(occurredAt).toISOString()} is in the future (more than ${Math.round(ctx.maxFutureMs / 1000)} s after the server's clock)`,
        kind: 'invalid',
      });
    }
  }
  if (raw.tenant !== undefined && raw.tenant !== ctx.tenant) {
    issues.push({
      path: 'tenant',
      message: `tenant "${raw.tenant.slice(0, 64)}" is not the tenant of this ingest key`,
      kind: 'forbidden',
    });
  }
  if (raw.source?.system !== undefined && raw.source.system !== ctx.sourceSystem) {
    issues.push({
      path: 'source.system',
      message: `source.system "${raw.source.system.slice(0, 64)}" is not the source of this ingest key`,
      kind: 'forbidden',
    });
  }
  if (issues.length > 0 || occurredAt === undefined) return { ok: false, issues };

  const { tenant: _t, source, occurredAt: _o, ...rest } = raw;
  const candidate = {
    ...rest,
    tenant: ctx.tenant,
    occurredAt,
    receivedAt: ctx.receivedAt,
    source: { system: ctx.sourceSystem, ...(source?.site !== undefined ? { site: source.site } : {}) },
  };
  // The assembled event must be a valid AccessEvent before it goes anywhere. Every field that
  // came from the request was checked by IngestEventSchema with the same field schemas, so what
  // is left is what the server added: the context (checked once per context object) and an
  // event time that must be whole epoch ms. When all of that holds the full re-validation
  // cannot fail and would return an equal object (ingest-event.property.test.ts), so it is
  // skipped; otherwise it runs, and its messages are the ones the client sees.
  if (isValidContext(ctx) && Number.isSafeInteger(occurredAt) && occurredAt >= 0) {
    return { ok: true, event: inSchemaOrder(candidate) };
  }
  const final = AccessEventSchema.safeParse(candidate);
  if (!final.success) return { ok: false, issues: describeZodIssues(final.error) };
  return { ok: true, event: final.data };
}

/** The server-supplied part of every event from one request: checked once per context object. */
const ContextSchema = AccessEventFieldsSchema.pick({ tenant: true, receivedAt: true }).extend({
  sourceSystem: AccessEventFieldsSchema.shape.source.shape.system,
});
const checkedContexts = new WeakMap<IngestContext, boolean>();

function isValidContext(ctx: IngestContext): boolean {
  let valid = checkedContexts.get(ctx);
  if (valid === undefined) {
    valid = ContextSchema.safeParse({
      tenant: ctx.tenant,
      receivedAt: ctx.receivedAt,
      sourceSystem: ctx.sourceSystem,
    }).success;
    // Contexts are plain objects a caller could change; only a frozen one may be remembered.
    if (Object.isFrozen(ctx)) checkedContexts.set(ctx, valid);
  }
  return valid;
}

/** The event with its keys in AccessEventSchema's order, as a zod parse would return it. */
function inSchemaOrder(e: AccessEvent): AccessEvent {
  // Presence, not value, as zod decides: an optional key that was sent stays a key.
  const event: AccessEvent = {
    eventId: e.eventId,
    tenant: e.tenant,
    occurredAt: e.occurredAt,
    receivedAt: e.receivedAt,
    source: e.source,
    actor: e.actor,
    ...('patient' in e ? { patient: e.patient } : {}),
    action: e.action,
    resource: e.resource,
    outcome: e.outcome,
  };
  if ('purposeOfUse' in e) event.purposeOfUse = e.purposeOfUse;
  if ('reason' in e) event.reason = e.reason;
  if ('recordCount' in e) event.recordCount = e.recordCount;
  return event;
}
