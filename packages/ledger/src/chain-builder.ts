import { AccessEventSchema, isSealedAccessEvent, type AccessEvent } from '@phi-audit/schema';
import { canonicalAccessEventJson, canonicalJson } from './canonical-json.js';
import { assertValidHead, createChainHasher } from './chain.js';
import { LedgerError } from './errors.js';
import { createLeafHasher } from './leaf.js';
import type { LedgerRecord, LogHead } from './types.js';

/** Turns events into ledger records for one log, continuing from a known head. */
export interface ChainBuilder {
  /**
   * The next record of the log: index = head.size, eventJson = canonical JSON of `event`.
   * Advances the head. Throws LEDGER_OFFSET_REGRESSION when `sourceOffset` does not move
   * forward, LEDGER_INVALID_EVENT when `event` is not a valid AccessEvent, and
   * LEDGER_INVALID_INPUT for a source offset that is not a non-negative safe integer.
   */
  append(input: { sourceOffset: number; event: AccessEvent }): LedgerRecord;
  /** The head after the last append (a copy). */
  head(): LogHead;
}

/** Records built from sealed events: the event their eventJson was made from. */
const sealedRecordEvents = new WeakMap<LedgerRecord, { event: AccessEvent; eventJson: string }>();

/**
 * The valid, frozen event a record's `eventJson` is the canonical JSON of, when `record` was
 * built by a chain builder from a sealed event (see isSealedAccessEvent) and its eventJson is
 * still the one built; otherwise undefined. Lets a store derive its columns without parsing
 * and validating `eventJson` again: JSON.parse(record.eventJson) would equal this event.
 */
export function sealedEventOf(record: LedgerRecord): AccessEvent | undefined {
  const entry = sealedRecordEvents.get(record);
  return entry !== undefined && entry.eventJson === record.eventJson ? entry.event : undefined;
}

/**
 * Creates a chain builder that continues the log whose current head is `head`
 * (use `emptyHead(origin)` for a new log). Throws LEDGER_INVALID_HEAD for a malformed head.
 */
export function createChainBuilder(head: LogHead): ChainBuilder {
  assertValidHead(head);
  const origin = head.origin;
  let size = head.size;
  let chain = head.chain;
  let lastSourceOffset = head.lastSourceOffset;
  const leaves = createLeafHasher({ origin });
  const chains = createChainHasher(chain);

  return {
    append({ sourceOffset, event }) {
      if (!Number.isSafeInteger(sourceOffset) || sourceOffset < 0) {
        throw new LedgerError(
          'LEDGER_INVALID_INPUT',
          `source offset must be a non-negative safe integer (log ${origin}, index ${size})`,
        );
      }
      if (sourceOffset <= lastSourceOffset) {
        throw new LedgerError(
          'LEDGER_OFFSET_REGRESSION',
          `source offset ${sourceOffset} does not move forward in log ${origin}: the last record (index ${size - 1}) has offset ${lastSourceOffset}`,
        );
      }
      // A sealed event was validated by AccessEventSchema and frozen since: checking it again
      // cannot fail. Any other event is validated here.
      const sealed = isSealedAccessEvent(event);
      if (!sealed) {
        const parsed = AccessEventSchema.safeParse(event);
        if (!parsed.success) {
          // Paths and schema messages only: the values may be PHI.
          const fields = parsed.error.issues.map((i) => i.path.join('.') || '(event)').join(', ');
          throw new LedgerError('LEDGER_INVALID_EVENT', `event is not a valid AccessEvent (fields: ${fields})`, {
            cause: parsed.error,
          });
        }
      }
      const eventJson = sealed ? canonicalAccessEventJson(event) : canonicalJson(event);
      const leafHash = leaves.hashHex(size, sourceOffset, event.eventId, eventJson);
      const nextChainHex = chains.next(leafHash);
      const record: LedgerRecord = {
        origin,
        index: size,
        sourceOffset,
        eventId: event.eventId,
        tenant: event.tenant,
        eventJson,
        leafHash,
        chain: nextChainHex,
      };
      if (sealed) sealedRecordEvents.set(record, { event, eventJson });
      size += 1;
      chain = nextChainHex;
      lastSourceOffset = sourceOffset;
      return record;
    },
    head() {
      return { origin, size, chain, lastSourceOffset };
    },
  };
}
