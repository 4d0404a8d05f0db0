import { z } from 'zod';

/**
 * The canonical access event: what every collector produces and what the ledger stores.
 * Events carry identifiers, never demographics (those are reference data).
 */

export const ACTIONS = [
  'view',
  'create',
  'update',
  'delete',
  'print',
  'export',
  'query',
  'login',
  'break_glass',
] as const;
export const OUTCOMES = ['success', 'failure'] as const;

/** Upper bound for identifier-like strings; long enough for OIDs and URNs, short enough to bound storage. */
export const MAX_ID_LENGTH = 256;
/** Upper bound for free-text fields such as a break-the-glass reason. */
export const MAX_TEXT_LENGTH = 2000;

/** Strings must be valid Unicode: a lone surrogate cannot be canonicalised or stored faithfully. */
const wellFormed = (s: string): boolean => s.isWellFormed();

const id = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(MAX_ID_LENGTH, `${what} must be at most ${MAX_ID_LENGTH} characters`)
    .refine(wellFormed, `${what} contains an unpaired UTF-16 surrogate (invalid Unicode)`);

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .max(max, `${what} must be at most ${max} characters`)
    .refine(wellFormed, `${what} contains an unpaired UTF-16 surrogate (invalid Unicode)`);

/** Epoch milliseconds as a safe integer. */
const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ActorSchema = z.strictObject({
  userId: id('actor.userId'),
  name: text('actor.name', MAX_ID_LENGTH).optional(),
  role: id('actor.role').optional(),
  department: id('actor.department').optional(),
  workstation: id('actor.workstation').optional(),
  ip: z.union([z.ipv4(), z.ipv6()], { error: 'actor.ip must be an IPv4 or IPv6 address' }).optional(),
});

export const SourceSchema = z.strictObject({
  system: id('source.system'),
  site: id('source.site').optional(),
});

export const PatientSchema = z.strictObject({ id: id('patient.id') });

export const ResourceSchema = z.strictObject({
  type: id('resource.type'),
  id: id('resource.id').optional(),
});

const eventFields = {
  eventId: id('eventId'),
  tenant: z
    .string({ error: 'tenant must be a string' })
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,62}$/,
      'tenant must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
    ),
  occurredAt: epochMs,
  receivedAt: epochMs,
  source: SourceSchema,
  actor: ActorSchema,
  /** Absent only on a `login`, which concerns no patient (requirePatientUnlessLogin). */
  patient: PatientSchema.optional(),
  action: z.enum(ACTIONS, { error: `action must be one of ${ACTIONS.join(', ')}` }),
  resource: ResourceSchema,
  outcome: z.enum(OUTCOMES, { error: `outcome must be one of ${OUTCOMES.join(', ')}` }),
  purposeOfUse: id('purposeOfUse').optional(),
  reason: text('reason', MAX_TEXT_LENGTH).optional(),
  recordCount: z
    .number({ error: 'recordCount must be a number' })
    .int('recordCount must be a whole number')
    .min(0, 'recordCount must not be negative')
    .max(Number.MAX_SAFE_INTEGER, 'recordCount is larger than 2^53-1 and cannot be represented exactly')
    .optional(),
};

/**
 * The field schemas as one object, without the cross-field rule: for deriving other schemas
 * (`pick`, `omit`, `extend` refuse a schema with refinements). Validate events with
 * AccessEventSchema, never with this.
 */
export const AccessEventFieldsSchema = z.strictObject(eventFields);

/**
 * Adds the rule that `patient` is present unless the action is `login`, the one action that
 * concerns no patient; a missing or invalid action is not a login. The rule also runs when
 * other fields are invalid, so a client learns every problem at once, but not when `patient`
 * itself is: its own message says more.
 */
export function requirePatientUnlessLogin<S extends z.ZodType<{ action?: unknown; patient?: unknown }>>(schema: S): S {
  return schema.refine((e) => e.patient !== undefined || e.action === 'login', {
    path: ['patient'],
    message: 'patient is required unless action is login',
    when: ({ value, issues }) =>
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      !issues.some((i) => i.path?.[0] === 'patient'),
  });
}

/** The stored, canonical event. `occurredAt` and `receivedAt` are UTC epoch milliseconds. */
export const AccessEventSchema = requirePatientUnlessLogin(AccessEventFieldsSchema);
export type AccessEvent = z.infer<typeof AccessEventSchema>;
export type Action = (typeof ACTIONS)[number];
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Events that came out of AccessEventSchema and were deep-frozen right after: they are valid
 * and can no longer change, so code further down the same process (the ledger's chain
 * builder) may rely on that instead of validating again.
 */
const sealedEvents = new WeakSet<object>();

/**
 * AccessEventSchema.safeParse, and on success the event deep-frozen and remembered as valid
 * (isSealedAccessEvent). Use it where an event enters a process from outside.
 */
export function safeParseSealedAccessEvent(value: unknown): ReturnType<typeof AccessEventSchema.safeParse> {
  const parsed = AccessEventSchema.safeParse(value);
  if (parsed.success) {
    const e = parsed.data;
    // zod returns fresh objects, so nothing outside holds a reference that could still change them.
    Object.freeze(e.source);
    Object.freeze(e.actor);
    if (e.patient !== undefined) Object.freeze(e.patient);
    Object.freeze(e.resource);
    sealedEvents.add(Object.freeze(e));
  }
  return parsed;
}

/** True for an event returned by safeParseSealedAccessEvent: valid, and frozen since. */
export function isSealedAccessEvent(value: unknown): value is AccessEvent {
  return typeof value === 'object' && value !== null && sealedEvents.has(value);
}
