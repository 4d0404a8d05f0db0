import { ACTIONS, MAX_ID_LENGTH, MAX_TEXT_LENGTH, OUTCOMES } from '@phi-audit/schema';

/**
 * The verifier's fast path for "is this parsed eventJson a valid AccessEvent, ready for the
 * canonical-form comparison?": a hand-written walk over the shape AccessEventSchema accepts,
 * several times cheaper than zod on the hot path of `phi-audit verify`.
 *
 * It is a SUFFICIENT condition only: true means AccessEventSchema accepts the value AND every
 * object's keys enumerate in code-unit order AND every string is well-formed (so, per
 * canonical-check.ts, `JSON.stringify(value) === text` decides canonical form). Anything it is
 * not sure about (an `ip`, a null, an unknown or unsorted key, any schema it does not know)
 * returns false and the caller takes the full zod path, which also produces the message.
 * Never weaker than zod: a property test checks fast ⇒ AccessEventSchema.safeParse succeeds.
 */

const actions: ReadonlySet<unknown> = new Set<unknown>(ACTIONS);
const outcomes: ReadonlySet<unknown> = new Set<unknown>(OUTCOMES);
const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function isId(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_LENGTH && v.isWellFormed();
}

function isText(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length <= max && v.isWellFormed();
}

function isEpochMs(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys of `o` strictly ascending (code units), each allowed by `field`, and `required` all present. */
function fieldsOk(
  o: Record<string, unknown>,
  field: (key: string, value: unknown) => boolean,
  required: readonly string[],
): boolean {
  let previous = '';
  let count = 0;
  for (const key in o) {
    // `for…in` also walks inherited enumerable keys; JSON.parse output has none, but be exact.
    if (!Object.hasOwn(o, key)) return false;
    if (count > 0 && !(previous < key)) return false;
    if (!field(key, o[key])) return false;
    previous = key;
    count += 1;
  }
  for (const key of required) if (!Object.hasOwn(o, key)) return false;
  return true;
}

const SOURCE_REQUIRED = ['system'] as const;
const ACTOR_REQUIRED = ['userId'] as const;
const PATIENT_REQUIRED = ['id'] as const;
const RESOURCE_REQUIRED = ['type'] as const;
const EVENT_REQUIRED = [
  'eventId',
  'tenant',
  'occurredAt',
  'receivedAt',
  'source',
  'actor',
  'action',
  'resource',
  'outcome',
] as const;

function sourceField(key: string, v: unknown): boolean {
  return (key === 'system' || key === 'site') && isId(v);
}

function actorField(key: string, v: unknown): boolean {
  switch (key) {
    case 'userId':
    case 'role':
    case 'department':
    case 'workstation':
      return isId(v);
    case 'name':
      return isText(v, MAX_ID_LENGTH);
    default:
      // `ip` (address syntax) and anything unknown: zod decides.
      return false;
  }
}

function resourceField(key: string, v: unknown): boolean {
  return (key === 'type' || key === 'id') && isId(v);
}

function eventField(key: string, v: unknown): boolean {
  switch (key) {
    case 'eventId':
    case 'purposeOfUse':
      return isId(v);
    case 'tenant':
      return typeof v === 'string' && TENANT.test(v);
    case 'occurredAt':
    case 'receivedAt':
    case 'recordCount':
      return isEpochMs(v);
    case 'source':
      return isPlainObject(v) && fieldsOk(v, sourceField, SOURCE_REQUIRED);
    case 'actor':
      return isPlainObject(v) && fieldsOk(v, actorField, ACTOR_REQUIRED);
    case 'patient':
      return isPlainObject(v) && fieldsOk(v, (k, x) => k === 'id' && isId(x), PATIENT_REQUIRED);
    case 'resource':
      return isPlainObject(v) && fieldsOk(v, resourceField, RESOURCE_REQUIRED);
    case 'action':
      return actions.has(v);
    case 'outcome':
      return outcomes.has(v);
    case 'reason':
      return isText(v, MAX_TEXT_LENGTH);
    default:
      return false;
  }
}

/**
 * True only when `value` (JSON.parse output) is certainly a valid AccessEvent with every
 * object's keys in canonical order and every string well-formed; false means "take the zod
 * path", not "invalid".
 */
export function isSortedValidAccessEventFast(value: unknown): boolean {
  if (!isPlainObject(value) || !fieldsOk(value, eventField, EVENT_REQUIRED)) return false;
  return Object.hasOwn(value, 'patient') || value.action === 'login';
}
