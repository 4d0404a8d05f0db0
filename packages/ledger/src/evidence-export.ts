/**
 * Finding the records an investigator asked for and bundling them with their logs' latest
 * checkpoints: what `phi-audit evidence` and the console's evidence export share. Each caller
 * words refusals its own way (a command line names flags and may print the ids the user typed;
 * an HTTP answer names no ids), so the selection outcome is data, not a message.
 */
import { MAX_ACCESS_QUERY_LIMIT, type AccessQueryStore } from './access-queries.js';
import type { StoredCheckpoint } from './checkpoint.js';
import { buildEvidenceBundle, EvidenceError } from './evidence-bundle.js';
import type { NoteVerifier } from './signed-note.js';
import { createTileNodeReader } from './tiles.js';
import type { ProofStore, StoredRecord } from './types.js';

/** The store methods an evidence export reads. */
export type EvidenceStore = Pick<ProofStore, 'recordsByEventId' | 'recordsAt' | 'latestCheckpoint' | 'readTiles'> &
  AccessQueryStore;

/** Which records the investigator asked for. */
export type EvidenceSelector =
  { kind: 'events'; eventIds: string[] } | { kind: 'patient'; patientId: string } | { kind: 'user'; userId: string };

export interface EvidenceQuery {
  tenant: string;
  selector: EvidenceSelector;
  /** Inclusive lower bound on event time, epoch ms (patient/user selectors). */
  from?: number | undefined;
  /** Exclusive upper bound, epoch ms. */
  to?: number | undefined;
}

/** What a selection found: the records, or why there is nothing to bundle. */
export type EvidenceSelection =
  | { ok: true; records: StoredRecord[] }
  /** Some requested event ids are not in the tenant's ledger (they are listed, in request order). */
  | { ok: false; reason: 'unknown_events'; missing: string[] }
  /** A patient/user query matched nothing. */
  | { ok: false; reason: 'no_match' }
  /** A patient/user query matched MAX_ACCESS_QUERY_LIMIT or more records: more than one bundle holds. */
  | { ok: false; reason: 'too_many'; limit: number };

/**
 * The rows asked for. Access queries return positions only (origin, index): the rows
 * themselves come from recordsAt, the same read a verifier trusts. Throws EvidenceError
 * (EVIDENCE_RECORD_INVALID) when the store hands back a row of another tenant.
 */
export async function findEvidenceRecords(store: EvidenceStore, query: EvidenceQuery): Promise<EvidenceSelection> {
  const { tenant, selector } = query;
  let records: StoredRecord[];
  if (selector.kind === 'events') {
    records = await store.recordsByEventId(tenant, selector.eventIds);
    const found = new Set(records.map((r) => r.eventId));
    const missing = selector.eventIds.filter((id) => !found.has(id));
    if (missing.length > 0) return { ok: false, reason: 'unknown_events', missing };
  } else {
    const window = {
      tenant,
      limit: MAX_ACCESS_QUERY_LIMIT,
      ...(query.from !== undefined ? { from: query.from } : {}),
      ...(query.to !== undefined ? { to: query.to } : {}),
    };
    const rows =
      selector.kind === 'patient'
        ? await store.accessesByPatient({ ...window, patientId: selector.patientId })
        : await store.accessesByUser({ ...window, userId: selector.userId });
    if (rows.length >= MAX_ACCESS_QUERY_LIMIT) return { ok: false, reason: 'too_many', limit: MAX_ACCESS_QUERY_LIMIT };
    const byLog = new Map<string, number[]>();
    for (const row of rows) byLog.set(row.origin, [...(byLog.get(row.origin) ?? []), row.index]);
    records = [];
    for (const [origin, indexes] of byLog) records.push(...(await store.recordsAt(origin, indexes)));
  }
  if (records.length === 0) return { ok: false, reason: 'no_match' };
  const foreign = records.find((r) => r.tenant !== tenant);
  if (foreign !== undefined) {
    throw new EvidenceError(
      'EVIDENCE_RECORD_INVALID',
      `the store returned a record of another tenant (log ${foreign.origin}, index ${foreign.index})`,
    );
  }
  return { ok: true, records };
}

/**
 * Bundles found records: takes each log's latest stored checkpoint and builds the bundle
 * (buildEvidenceBundle: every checkpoint must verify with `trustedKeys` and cover every
 * record, every inclusion proof is built and checked). Throws EvidenceError —
 * EVIDENCE_NOT_CHECKPOINTED when a record is newer than its log's latest checkpoint.
 */
export async function bundleEvidenceRecords(options: {
  store: EvidenceStore;
  records: readonly StoredRecord[];
  trustedKeys: readonly NoteVerifier[];
}): Promise<string> {
  const { store } = options;
  const checkpoints: StoredCheckpoint[] = [];
  for (const origin of [...new Set(options.records.map((r) => r.origin))]) {
    const latest = await store.latestCheckpoint(origin);
    if (latest !== undefined) checkpoints.push(latest);
  }
  return buildEvidenceBundle({
    records: options.records,
    checkpoints,
    trustedKeys: options.trustedKeys,
    readNodes: (origin, size) => createTileNodeReader((ids) => store.readTiles(origin, ids), size),
  });
}
