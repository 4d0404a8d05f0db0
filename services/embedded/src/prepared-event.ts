import { canonicalAccessEventJson } from '@phi-audit/ledger';
import { safeParseSealedAccessEvent, type AccessEvent } from '@phi-audit/schema';
import { deriveColumns, type DerivedColumns } from '@phi-audit/store-sqlite';
import { EmbeddedError } from './errors.js';

/**
 * An event ready for the writer thread: its RFC 8785 canonical JSON (the hashed truth) and the
 * query columns, both made from the same event right after AccessEventSchema accepted it.
 * Plain data, so it survives the structured clone to the writer; the writer neither parses
 * nor re-validates it.
 */
export interface PreparedEvent {
  eventJson: string;
  columns: DerivedColumns;
}

/**
 * Validates every event against AccessEventSchema (sealing it) and prepares it; throws
 * EMBEDDED_STORE_FAILED, naming only field paths, when one is not a valid AccessEvent (the
 * collector's validation should make that impossible; nothing of the request is stored).
 */
export function prepareEvents(events: readonly AccessEvent[]): PreparedEvent[] {
  return events.map((value) => {
    const parsed = safeParseSealedAccessEvent(value);
    if (!parsed.success) {
      // Paths only: the values may be PHI.
      const fields = parsed.error.issues.map((i) => i.path.join('.') || '(event)').join(', ');
      throw new EmbeddedError(
        'EMBEDDED_STORE_FAILED',
        `an event is not a valid AccessEvent (fields: ${fields}); nothing was stored`,
      );
    }
    // canonicalAccessEventJson is exact for schema-accepted events only: this one just was.
    return { eventJson: canonicalAccessEventJson(parsed.data), columns: deriveColumns(parsed.data) };
  });
}
