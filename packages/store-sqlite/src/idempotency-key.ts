/** The fields that identify an event for deduplication: its source's event id within a tenant. */
export interface IdempotencyKeyFields {
  tenant: string;
  sourceSystem: string;
  eventId: string;
}

/**
 * One string per (tenant, source system, event id), for Set membership. A JSON array rather
 * than a separator join: ids may contain any character (NUL included), and the encoding
 * must stay injective.
 */
export function idempotencyKeyOf(key: IdempotencyKeyFields): string {
  return JSON.stringify([key.tenant, key.sourceSystem, key.eventId]);
}
