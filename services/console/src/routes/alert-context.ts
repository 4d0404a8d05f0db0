import type { AccessQueryStore, AccessRow, ProofStore } from '@phi-audit/ledger';
import type { Alert } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';

/**
 * What an alert's detail page shows beside the alert: its evidence events as the ledger holds
 * them, and the user's and the patient's recent accesses as timelines. Reads only; the route
 * records the disclosure before sending any of it.
 */

/** The ledger reads the detail page needs. */
export type AlertContextLedger = AccessQueryStore & Pick<ProofStore, 'recordsByEventId'>;

const DAY_MS = 86_400_000;
/** Timelines start this long before the alert's first event… */
export const TIMELINE_BEFORE_MS = 7 * DAY_MS;
/** …and end this long after its last event (exclusive). */
export const TIMELINE_AFTER_MS = DAY_MS;
/** Rows per timeline. */
export const TIMELINE_LIMIT = 200;

/** One evidence event with its place in the ledger. */
export interface EvidenceEntry {
  origin: string;
  index: number;
  event: AccessEvent;
  /** Set when the store's query columns disagree with the event (tampering): names the column. */
  columnMismatch?: string;
}

export interface AlertContext {
  evidence: EvidenceEntry[];
  /** Evidence references of the alert not found in the ledger (should be 0). */
  missingEvidence: number;
  /** The window both timelines cover: [from, to), epoch ms. */
  window: { from: number; to: number };
  userTimeline: AccessRow[];
  /** Absent for a user-level alert (no patient). */
  patientTimeline?: AccessRow[];
}

/**
 * Reads the evidence events of `alert` (matched on source system and event id; the first stored
 * copy of each) and both timelines.
 */
export async function loadAlertContext(ledger: AlertContextLedger, alert: Alert): Promise<AlertContext> {
  const from = Math.max(0, alert.firstEventAt - TIMELINE_BEFORE_MS);
  const to = Math.min(Number.MAX_SAFE_INTEGER, alert.lastEventAt + TIMELINE_AFTER_MS);
  const tenant = alert.tenant;
  const eventIds = [...new Set(alert.evidence.map((e) => e.eventId))];
  const [records, userTimeline, patientTimeline] = await Promise.all([
    eventIds.length === 0 ? Promise.resolve([]) : ledger.recordsByEventId(tenant, eventIds),
    ledger.accessesByUser({ tenant, userId: alert.userId, from, to, limit: TIMELINE_LIMIT }),
    alert.patientId === undefined
      ? Promise.resolve(undefined)
      : ledger.accessesByPatient({ tenant, patientId: alert.patientId, from, to, limit: TIMELINE_LIMIT }),
  ]);

  const wanted = new Set(alert.evidence.map((e) => keyOf(e.source, e.eventId)));
  const found = new Map<string, EvidenceEntry>();
  for (const record of records) {
    // The store already filtered by tenant; the event is parsed from the hashed bytes.
    const event = JSON.parse(record.eventJson) as AccessEvent;
    const key = keyOf(event.source.system, event.eventId);
    if (!wanted.has(key) || found.has(key) || event.tenant !== tenant) continue;
    found.set(key, {
      origin: record.origin,
      index: record.index,
      event,
      ...(record.columnMismatch !== undefined ? { columnMismatch: record.columnMismatch } : {}),
    });
  }
  const evidence = [...found.values()].sort((a, b) => a.event.occurredAt - b.event.occurredAt);
  return {
    evidence,
    missingEvidence: wanted.size - found.size,
    window: { from, to },
    userTimeline,
    ...(patientTimeline !== undefined ? { patientTimeline } : {}),
  };
}

function keyOf(source: string, eventId: string): string {
  return JSON.stringify([source, eventId]);
}

/** Patients a context discloses (evidence events and user timeline), each once, in order of mention. */
export function patientsDisclosed(context: AlertContext): string[] {
  const seen = new Set<string>();
  for (const e of context.evidence) if (e.event.patient !== undefined) seen.add(e.event.patient.id);
  for (const row of context.userTimeline) if (row.patientId !== undefined) seen.add(row.patientId);
  return [...seen];
}
