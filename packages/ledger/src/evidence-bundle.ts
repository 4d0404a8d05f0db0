/**
 * Evidence bundles: a self-contained file proving to a third party, offline and without the
 * store, that some access events are in the ledger. The format and every check a recipient runs
 * are documented in evidence-format.ts; verification is evidence-verify.ts; this module builds
 * bundles from a store's records, checkpoints and Merkle tiles.
 */
import { canonicalJson } from './canonical-json.js';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  EVIDENCE_FORMAT,
  EvidenceError,
  byCodeUnits,
  checkEventJson,
  describeCause,
  type EvidenceBundleContent,
} from './evidence-format.js';
import { verifyEvidenceBundle } from './evidence-verify.js';
import { leafHashOf } from './leaf.js';
import { inclusionProof, verifyInclusion, type ReadNodes } from './proofs.js';
import { openNote, type NoteVerifier } from './signed-note.js';

export {
  EVIDENCE_ERROR_CODES,
  EVIDENCE_FORMAT,
  EvidenceError,
  isEvidenceError,
  verifierKeyLabel,
  type EvidenceErrorCode,
} from './evidence-format.js';
export {
  verifyEvidenceBundle,
  type EvidenceProblem,
  type EvidenceVerification,
  type VerifiedEvidenceCheckpoint,
  type VerifiedEvidenceKey,
  type VerifiedEvidenceRecord,
} from './evidence-verify.js';

/** A stored record to put into a bundle (a LedgerRecord / StoredRecord fits). */
export interface EvidenceRecordInput {
  origin: string;
  index: number;
  sourceOffset: number;
  eventId: string;
  eventJson: string;
  /** The stored leaf hash (lowercase hex); must equal the one recomputed from the fields. */
  leafHash: string;
}

export interface BuildEvidenceBundleOptions {
  /** The records to prove (duplicates of the same row are collapsed). At least one. */
  records: readonly EvidenceRecordInput[];
  /** The signed checkpoint of each log the records belong to (a StoredCheckpoint fits); at most one per log. */
  checkpoints: readonly { origin: string; note: string }[];
  /** Keys the checkpoints must verify with; the bundle carries those that signed a used checkpoint. */
  trustedKeys: readonly NoteVerifier[];
  /** Node reader of a log's tree at the checkpoint's size (e.g. createTileNodeReader over the store's tiles). */
  readNodes: (origin: string, size: number) => ReadNodes;
}

/** Splits a note into its text (ending "\n") and its signature lines (without "\n"). */
function splitNote(note: string): { text: string; lines: string[] } | undefined {
  // As the note parser does: the signatures follow the last blank line.
  const sep = note.lastIndexOf('\n\n');
  if (sep < 0 || !note.endsWith('\n')) return undefined;
  return { text: note.slice(0, sep + 1), lines: note.slice(sep + 2, -1).split('\n') };
}

/**
 * Builds an evidence bundle (the file's exact text): checks every checkpoint against the
 * trusted keys (dropping signature lines of other keys), every record against its stored leaf
 * hash and its log's checkpoint, builds and verifies each inclusion proof, and finally
 * verifies the finished text with verifyEvidenceBundle. Throws EvidenceError (EVIDENCE_ERROR_CODES);
 * nothing is returned unless the bundle verifies with `trustedKeys`.
 */
export async function buildEvidenceBundle(options: BuildEvidenceBundleOptions): Promise<string> {
  const { trustedKeys } = options;
  if (trustedKeys.length === 0) throw new EvidenceError('EVIDENCE_INPUT_INVALID', 'no trusted verifier key given');
  if (options.records.length === 0) throw new EvidenceError('EVIDENCE_INPUT_INVALID', 'no records to bundle');

  const logs = new Map<string, { note: string; checkpoint: Checkpoint; keys: NoteVerifier[] }>();
  for (const stored of options.checkpoints) {
    if (logs.has(stored.origin)) {
      throw new EvidenceError('EVIDENCE_INPUT_INVALID', `more than one checkpoint given for log ${stored.origin}`);
    }
    let opened: ReturnType<typeof openNote>;
    let checkpoint: Checkpoint;
    try {
      opened = openNote(stored.note, trustedKeys);
      checkpoint = parseCheckpoint(opened.text);
    } catch (cause) {
      throw new EvidenceError(
        'EVIDENCE_CHECKPOINT_UNTRUSTED',
        `the latest checkpoint of log ${stored.origin} does not verify with the trusted keys: ${describeCause(cause)}`,
        { cause },
      );
    }
    if (checkpoint.origin !== stored.origin) {
      throw new EvidenceError(
        'EVIDENCE_CHECKPOINT_UNTRUSTED',
        `the checkpoint stored for log ${stored.origin} names another log`,
      );
    }
    // Signatures of keys we cannot check (witnesses, retired keys) would be bytes nothing
    // verifies: keep only the lines the trusted keys verified.
    const parts = splitNote(stored.note);
    if (parts === undefined || parts.lines.length !== opened.signatures.length) {
      throw new EvidenceError('EVIDENCE_CHECKPOINT_UNTRUSTED', `the checkpoint of log ${stored.origin} is malformed`);
    }
    const kept = parts.lines.filter((_, i) => opened.signatures[i]?.verified === true);
    const note = `${parts.text}\n${kept.map((l) => `${l}\n`).join('')}`;
    logs.set(stored.origin, { note, checkpoint, keys: opened.verifiedBy });
  }

  // Collapse identical rows (a store returns duplicates as stored); refuse two different rows at one index.
  const rows = new Map<string, EvidenceRecordInput>();
  for (const r of options.records) {
    const id = JSON.stringify([r.origin, r.index]);
    const seen = rows.get(id);
    if (seen === undefined) rows.set(id, r);
    else if (
      seen.sourceOffset !== r.sourceOffset ||
      seen.eventId !== r.eventId ||
      seen.eventJson !== r.eventJson ||
      seen.leafHash !== r.leafHash
    ) {
      throw new EvidenceError(
        'EVIDENCE_RECORD_INVALID',
        `log ${r.origin} holds two different rows at index ${r.index}; run phi-audit verify`,
      );
    }
  }
  const records = [...rows.values()].sort((a, b) => byCodeUnits(a.origin, b.origin) || a.index - b.index);

  const usedLogs = new Set<string>();
  const out: EvidenceBundleContent['records'] = [];
  const readers = new Map<string, ReadNodes>();
  for (const r of records) {
    const where = `log ${r.origin}, index ${r.index}`;
    const log = logs.get(r.origin);
    if (log === undefined || r.index >= log.checkpoint.size) {
      throw new EvidenceError(
        'EVIDENCE_NOT_CHECKPOINTED',
        `record (${where}) is not covered by a signed checkpoint yet` +
          (log === undefined ? ' (the log has none)' : ` (the latest covers ${log.checkpoint.size} records)`),
      );
    }
    let leafHash: string;
    try {
      leafHash = leafHashOf(r);
    } catch (cause) {
      throw new EvidenceError(
        'EVIDENCE_RECORD_INVALID',
        `record (${where}) cannot be framed: ${describeCause(cause)}`,
        {
          cause,
        },
      );
    }
    if (leafHash !== r.leafHash) {
      throw new EvidenceError(
        'EVIDENCE_RECORD_INVALID',
        `record (${where}): the stored leaf hash does not match the record's fields (the row was altered); run phi-audit verify`,
      );
    }
    const event = checkEventJson(r.eventJson, r.eventId);
    if (!event.ok) throw new EvidenceError('EVIDENCE_RECORD_INVALID', `record (${where}): ${event.reason}`);

    let reader = readers.get(r.origin);
    if (reader === undefined) {
      reader = options.readNodes(r.origin, log.checkpoint.size);
      readers.set(r.origin, reader);
    }
    let proof: Buffer[];
    try {
      proof = await inclusionProof(r.index, log.checkpoint.size, reader);
    } catch (cause) {
      throw new EvidenceError(
        'EVIDENCE_PROOF_FAILED',
        `record (${where}): cannot build its proof: ${describeCause(cause)}`,
        {
          cause,
        },
      );
    }
    const check = verifyInclusion({
      index: r.index,
      size: log.checkpoint.size,
      leafHash: Buffer.from(leafHash, 'hex'),
      proof,
      root: log.checkpoint.root,
    });
    if (!check.ok) {
      throw new EvidenceError(
        'EVIDENCE_PROOF_FAILED',
        `record (${where}): the proof from the stored tiles does not match the signed checkpoint: ${check.reason}`,
      );
    }
    usedLogs.add(r.origin);
    out.push({
      origin: r.origin,
      index: r.index,
      sourceOffset: r.sourceOffset,
      eventId: r.eventId,
      eventJson: r.eventJson,
      proof: proof.map((h) => h.toString('hex')),
    });
  }

  const used = [...usedLogs].sort(byCodeUnits).map((origin) => logs.get(origin)!);
  const keys = [...new Set(used.flatMap((l) => l.keys.map((k) => k.key)))].sort(byCodeUnits);
  const content: EvidenceBundleContent = {
    format: EVIDENCE_FORMAT,
    keys,
    checkpoints: used.map((l) => ({ note: l.note })),
    records: out,
  };
  const text = `${canonicalJson(content)}\n`;
  // The same checks a recipient runs: a bundle that would not verify is never handed out.
  const verified = verifyEvidenceBundle(text, { trustedKeys });
  if (!verified.ok) {
    const first = verified.problems[0];
    throw new EvidenceError(
      'EVIDENCE_PROOF_FAILED',
      `the built bundle does not verify: ${first ? `${first.subject}: ${first.message}` : 'unknown problem'}`,
    );
  }
  return text;
}
