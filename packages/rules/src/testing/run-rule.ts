/**
 * Test-only helpers (not built): one access event and one rule run through a fresh detector,
 * as the rule tests use them.
 */
import type { AccessEvent } from '@phi-audit/schema';
import type { Alert } from '../alert.js';
import { createDetector, type Rule } from '../engine.js';
import { parsePolicy, type Policy, type PolicyInput } from '../policy.js';

/**
 * An access by `actor` at `at`: a successful view of `patient`'s chart, or a login when there is
 * no patient. `actor.name` is deliberately free text that no explanation may copy.
 */
export function accessEvent(
  at: number,
  actor: string,
  patient: string | undefined,
  over: Partial<AccessEvent> = {},
): AccessEvent {
  return {
    eventId: 'e1',
    tenant: 't',
    occurredAt: at,
    receivedAt: at,
    source: { system: 'epic' },
    actor: { userId: actor, name: 'free text <b>' },
    ...(patient === undefined ? {} : { patient: { id: patient } }),
    action: patient === undefined ? 'login' : 'view',
    resource: { type: 'chart' },
    outcome: 'success',
    ...over,
  };
}

/** The alerts `rule` raises for `event` in a fresh detector, with `policy` (time zone UTC unless given). */
export function runRule<R>(rule: Rule<Policy, R>, reference: R, event: AccessEvent, policy: PolicyInput = {}): Alert[] {
  const parsed = parsePolicy({ timeZone: 'UTC', ...policy });
  return createDetector({ rules: [rule], policyFor: () => parsed, referenceFor: () => reference }).process(event);
}
