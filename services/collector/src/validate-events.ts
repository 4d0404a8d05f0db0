import { parseIngestEvent, type AccessEvent, type IngestContext } from '@phi-audit/schema';
import { CollectorError, type ErrorDetail } from './errors.js';

export interface ValidateEventsOptions {
  values: readonly unknown[];
  /** Problems found while parsing (duplicate keys, bad numbers), already located by event index. */
  parseIssues: readonly ErrorDetail[];
  ctx: IngestContext;
}

/**
 * Turns every posted value into a canonical AccessEvent, or rejects the whole request:
 * 403 INGEST_FORBIDDEN_TENANT when any event names another tenant/source than the key's,
 * 400 INGEST_INVALID_EVENT when any event is invalid, 400 INGEST_DUPLICATE_EVENT_ID when
 * two events share an eventId. Details name index, eventId (when readable) and path.
 */
export function validateEvents({ values, parseIssues, ctx }: ValidateEventsOptions): AccessEvent[] {
  const details: ErrorDetail[] = [];
  let forbidden = false;
  const byIndex = new Map<number, ErrorDetail[]>();
  for (const issue of parseIssues) {
    if (issue.index === undefined) continue;
    byIndex.set(issue.index, [...(byIndex.get(issue.index) ?? []), issue]);
  }

  const events: AccessEvent[] = [];
  values.forEach((value, index) => {
    const eventId = readableEventId(value);
    const withId = (d: ErrorDetail): ErrorDetail => ({
      index,
      ...(eventId === undefined ? {} : { eventId }),
      ...stripIndex(d),
    });
    const structural = byIndex.get(index);
    if (structural) details.push(...structural.map(withId));
    const result = parseIngestEvent(value, ctx);
    if (result.ok) {
      if (!structural) events.push(result.event);
      return;
    }
    for (const issue of result.issues) {
      if (issue.kind === 'forbidden') forbidden = true;
      details.push(withId({ path: issue.path, message: issue.message }));
    }
  });

  if (details.length > 0) {
    const bad = new Set(details.map((d) => d.index)).size;
    if (forbidden) {
      throw new CollectorError(
        'INGEST_FORBIDDEN_TENANT',
        `${bad} of ${values.length} event(s) name a tenant or source this ingest key may not write; nothing was accepted`,
        { details },
      );
    }
    throw new CollectorError(
      'INGEST_INVALID_EVENT',
      `${bad} of ${values.length} event(s) are invalid; nothing was accepted`,
      { details },
    );
  }

  const firstIndex = new Map<string, number>();
  events.forEach((event, index) => {
    const first = firstIndex.get(event.eventId);
    if (first === undefined) firstIndex.set(event.eventId, index);
    else
      details.push({
        index,
        eventId: event.eventId,
        path: 'eventId',
        message: `duplicate eventId; the same id is at index ${first}`,
      });
  });
  if (details.length > 0) {
    throw new CollectorError(
      'INGEST_DUPLICATE_EVENT_ID',
      `${details.length} event(s) repeat an eventId used earlier in the request; nothing was accepted`,
      { details },
    );
  }
  return events;
}

/** The eventId to name in error details, when the value has a usable one. */
function readableEventId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const id = (value as { eventId?: unknown }).eventId;
  return typeof id === 'string' ? id.slice(0, 256) : undefined;
}

function stripIndex(detail: ErrorDetail): ErrorDetail {
  const { index: _index, eventId: _eventId, ...rest } = detail;
  return rest;
}
