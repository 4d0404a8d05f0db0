import canonicalize from 'canonicalize';
import type { AccessEvent } from '@phi-audit/schema';
import { LedgerError } from './errors.js';

/**
 * RFC 8785 (JCS) canonical JSON of `value`: object keys sorted by UTF-16 code units,
 * no whitespace, ECMAScript number serialisation, minimal string escaping.
 * Throws LEDGER_INVALID_INPUT for values JSON cannot represent exactly
 * (undefined, NaN, ±Infinity, BigInt, lone surrogates, cycles).
 */
export function canonicalJson(value: unknown): string {
  let out: string | undefined;
  try {
    out = canonicalize(value);
  } catch (cause) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `value cannot be canonicalised: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (out === undefined) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `value of type ${typeof value} has no JSON representation`);
  }
  return out;
}

/**
 * canonicalJson of an AccessEvent that AccessEventSchema accepted (strict: no other keys; every
 * string well-formed; numbers safe integers), without canonicalize's generic walk: the event is
 * copied with its keys inserted in sorted (UTF-16 code unit) order at every level, and
 * JSON.stringify writes keys in insertion order, escapes strings and formats numbers exactly
 * as RFC 8785 prescribes. Equal to canonicalJson(event) for every such event
 * (canonical-json.property.test.ts); callers must only pass events the schema accepted,
 * anything else goes through canonicalJson.
 */
export function canonicalAccessEventJson(e: AccessEvent): string {
  const a = e.actor;
  const actor: Record<string, string> = {};
  if (a.department !== undefined) actor.department = a.department;
  if (a.ip !== undefined) actor.ip = a.ip;
  if (a.name !== undefined) actor.name = a.name;
  if (a.role !== undefined) actor.role = a.role;
  actor.userId = a.userId;
  if (a.workstation !== undefined) actor.workstation = a.workstation;
  const resource: Record<string, string> = {};
  if (e.resource.id !== undefined) resource.id = e.resource.id;
  resource.type = e.resource.type;
  const source: Record<string, string> = {};
  if (e.source.site !== undefined) source.site = e.source.site;
  source.system = e.source.system;
  const sorted: Record<string, unknown> = {
    action: e.action,
    actor,
    eventId: e.eventId,
    occurredAt: e.occurredAt,
    outcome: e.outcome,
  };
  if (e.patient !== undefined) sorted.patient = { id: e.patient.id };
  if (e.purposeOfUse !== undefined) sorted.purposeOfUse = e.purposeOfUse;
  if (e.reason !== undefined) sorted.reason = e.reason;
  sorted.receivedAt = e.receivedAt;
  if (e.recordCount !== undefined) sorted.recordCount = e.recordCount;
  sorted.resource = resource;
  sorted.source = source;
  sorted.tenant = e.tenant;
  return JSON.stringify(sorted);
}
