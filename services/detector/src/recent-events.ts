import type { AccessEvent } from '@phi-audit/schema';

/**
 * The idempotency keys (tenant, source system, event id) of the last `capacity` events, so an
 * event sent twice (a client retry: Kafka carries both copies; the ledger-writer stores one)
 * counts once in the detector's windows and day tallies too. A bounded FIFO: memory is
 * about 100–150 bytes per key.
 */
export class RecentEvents {
  readonly #capacity: number;
  readonly #keys = new Set<string>();

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('capacity must be a whole number ≥ 0');
    this.#capacity = capacity;
  }

  /** True when the event's key is among the recent ones; otherwise remembers it and returns false. */
  seen(event: AccessEvent): boolean {
    if (this.#capacity === 0) return false;
    // Length-prefixed: ids may contain any character, so no separator would be unambiguous.
    const { tenant, source, eventId } = event;
    const key = `${tenant.length}:${tenant}${source.system.length}:${source.system}${eventId}`;
    if (this.#keys.has(key)) return true;
    this.#keys.add(key);
    if (this.#keys.size > this.#capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      for (const oldest of this.#keys) {
        this.#keys.delete(oldest);
        break;
      }
    }
    return false;
  }

  get size(): number {
    return this.#keys.size;
  }
}
