/**
 * Offline verification of evidence bundles (evidence-format.ts defines the format and what is checked).
 */
import { isCanonicalJsonText } from './canonical-check.js';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  EVIDENCE_FORMAT,
  EvidenceBundleSchema,
  checkEventJson,
  describeCause,
  verifierKeyLabel,
} from './evidence-format.js';
import { leafHashOf } from './leaf.js';
import { verifyInclusion } from './proofs.js';
import { openNote, parseVerifierKey, type NoteVerifier } from './signed-note.js';

/** One problem found in a bundle: what it concerns and why it fails (no event contents). */
export interface EvidenceProblem {
  /** "bundle", "key 1 (name+id)", "checkpoint 0 (log …)", "record 3 (log …, index 5)". */
  subject: string;
  message: string;
}

/** A verified record: where it is and what happened (for the investigator's own screen). */
export interface VerifiedEvidenceRecord {
  origin: string;
  index: number;
  sourceOffset: number;
  eventId: string;
  tenant: string;
  /** Event time, epoch ms. */
  occurredAt: number;
  action: string;
}

export interface VerifiedEvidenceCheckpoint {
  origin: string;
  size: number;
  rootHex: string;
  /** Labels (verifierKeyLabel) of the bundled keys that signed it. */
  signedBy: string[];
  /** Whether one of the trusted keys signed it (false when no trusted keys were given). */
  trusted: boolean;
}

export interface VerifiedEvidenceKey {
  /** verifierKeyLabel: name+key ID. */
  label: string;
  /** The verifier key text. */
  key: string;
  /** Whether it is one of the trusted keys given. */
  trusted: boolean;
}

export interface EvidenceVerification {
  ok: boolean;
  /** The bundle's records, only when ok (an invalid bundle's contents are not vouched for). */
  records: VerifiedEvidenceRecord[];
  checkpoints: VerifiedEvidenceCheckpoint[];
  keys: VerifiedEvidenceKey[];
  /** Every problem found, in file order; the first is the one to report. Empty when ok. */
  problems: EvidenceProblem[];
  /** Whether trusted keys were given (so `ok` means "signed by a trusted key"). */
  checkedAgainstTrustedKeys: boolean;
}

/** Decodes strict UTF-8, keeping a BOM (so it fails the canonical-form check). */
function decodeBundle(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    return undefined;
  }
}

/**
 * Verifies an evidence bundle offline (the file's bytes or text). Checks everything the module
 * documentation lists and, when `trustedKeys` is given, that every checkpoint is signed by one of
 * them. Never throws: every problem is returned, in file order. `records` is filled only when ok.
 */
export function verifyEvidenceBundle(
  input: string | Uint8Array,
  options: { trustedKeys?: readonly NoteVerifier[] } = {},
): EvidenceVerification {
  const trustedTexts = new Set((options.trustedKeys ?? []).map((k) => k.key));
  const checkedAgainstTrustedKeys = options.trustedKeys !== undefined && options.trustedKeys.length > 0;
  const result: EvidenceVerification = {
    ok: false,
    records: [],
    checkpoints: [],
    keys: [],
    problems: [],
    checkedAgainstTrustedKeys,
  };
  const problem = (subject: string, message: string): void => {
    result.problems.push({ subject, message });
  };

  const text = decodeBundle(input);
  if (text === undefined) {
    problem('bundle', 'the file is not valid UTF-8');
    return result;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problem('bundle', 'the file is not JSON');
    return result;
  }
  if (!text.endsWith('\n') || !isCanonicalJsonText(text.slice(0, -1), parsed)) {
    problem('bundle', 'the file is not exactly the RFC 8785 canonical JSON of its content followed by one newline');
    return result;
  }
  const schema = EvidenceBundleSchema.safeParse(parsed);
  if (!schema.success) {
    const detail = schema.error.issues.map((i) => `${i.path.join('.') || '(bundle)'}: ${i.message}`).join('; ');
    problem('bundle', `not a ${EVIDENCE_FORMAT} bundle: ${detail}`);
    return result;
  }
  const bundle = schema.data;

  // Keys: canonical text, sorted, unique (also by name and key ID, which is how notes name them).
  const keys: NoteVerifier[] = [];
  const keyUsed: boolean[] = [];
  const labels = new Set<string>();
  bundle.keys.forEach((text, i) => {
    const subject = `key ${i}`;
    let key: NoteVerifier;
    try {
      key = parseVerifierKey(text);
    } catch (e) {
      problem(subject, `not a valid verifier key: ${describeCause(e)}`);
      return;
    }
    const label = verifierKeyLabel(key);
    if (key.key !== text) return problem(`${subject} (${label})`, 'the key text is not in canonical form');
    const prev = bundle.keys[i - 1];
    if (prev !== undefined && !(prev < text)) {
      return problem(`${subject} (${label})`, 'keys are not sorted or repeat a key');
    }
    if (labels.has(label)) return problem(`${subject} (${label})`, 'another key has the same name and key ID');
    labels.add(label);
    keys.push(key);
    keyUsed.push(false);
    result.keys.push({ label, key: text, trusted: trustedTexts.has(text) });
  });

  // Checkpoints: every signature line verified by a bundled key, sorted by origin, one per log.
  const logs = new Map<string, { checkpoint: Checkpoint; used: boolean }>();
  let previousOrigin: string | undefined;
  bundle.checkpoints.forEach(({ note }, i) => {
    let subject = `checkpoint ${i}`;
    let opened: ReturnType<typeof openNote>;
    let checkpoint: Checkpoint;
    try {
      opened = openNote(note, keys);
      checkpoint = parseCheckpoint(opened.text);
    } catch (e) {
      problem(subject, `does not verify with the bundled keys: ${describeCause(e)}`);
      return;
    }
    subject = `checkpoint ${i} (log ${checkpoint.origin}, size ${checkpoint.size})`;
    const dup = logs.get(checkpoint.origin);
    if (previousOrigin !== undefined && !(previousOrigin < checkpoint.origin)) {
      problem(subject, 'checkpoints are not sorted by log or repeat a log');
    }
    previousOrigin = checkpoint.origin;
    if (dup !== undefined) return;
    const unverified = opened.signatures.filter((s) => !s.verified);
    if (unverified.length > 0) {
      problem(subject, `carries signatures no bundled key verifies (${unverified.map(verifierKeyLabel).join(', ')})`);
    }
    for (const v of opened.verifiedBy) {
      const k = keys.findIndex((key) => key.key === v.key);
      if (k >= 0) keyUsed[k] = true;
    }
    const trusted = opened.verifiedBy.some((v) => trustedTexts.has(v.key));
    if (checkedAgainstTrustedKeys && !trusted) {
      problem(
        subject,
        `is not signed by any trusted key (signed by ${opened.verifiedBy.map(verifierKeyLabel).join(', ')})`,
      );
    }
    logs.set(checkpoint.origin, { checkpoint, used: false });
    result.checkpoints.push({
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHex: checkpoint.root.toString('hex'),
      signedBy: opened.verifiedBy.map(verifierKeyLabel),
      trusted,
    });
  });
  keys.forEach((key, i) => {
    if (keyUsed[i] !== true) problem(`key (${verifierKeyLabel(key)})`, 'verifies none of the checkpoints');
  });

  // Records: sorted and unique by (origin, index); leaf recomputed; proof to the checkpoint root.
  const records: VerifiedEvidenceRecord[] = [];
  bundle.records.forEach((r, i) => {
    const subject = `record ${i} (log ${r.origin}, index ${r.index})`;
    const prev = bundle.records[i - 1];
    if (prev !== undefined && !(prev.origin < r.origin || (prev.origin === r.origin && prev.index < r.index))) {
      problem(subject, 'records are not sorted by log and index or repeat a record');
    }
    const log = logs.get(r.origin);
    if (log === undefined) return problem(subject, 'the bundle has no valid checkpoint of its log');
    log.used = true;
    if (r.index >= log.checkpoint.size) {
      return problem(subject, `index is beyond the checkpoint's size ${log.checkpoint.size}`);
    }
    const event = checkEventJson(r.eventJson, r.eventId);
    if (!event.ok) return problem(subject, event.reason);
    let leafHash: string;
    try {
      leafHash = leafHashOf(r);
    } catch (e) {
      return problem(subject, `cannot be framed as a leaf: ${describeCause(e)}`);
    }
    const check = verifyInclusion({
      index: r.index,
      size: log.checkpoint.size,
      leafHash: Buffer.from(leafHash, 'hex'),
      proof: r.proof.map((h) => Buffer.from(h, 'hex')),
      root: log.checkpoint.root,
    });
    if (!check.ok) return problem(subject, `inclusion proof fails against the checkpoint: ${check.reason}`);
    records.push({
      origin: r.origin,
      index: r.index,
      sourceOffset: r.sourceOffset,
      eventId: r.eventId,
      tenant: event.event.tenant,
      occurredAt: event.event.occurredAt,
      action: event.event.action,
    });
  });
  for (const [origin, log] of logs) {
    if (!log.used) problem(`checkpoint (log ${origin})`, 'no record of the bundle uses it');
  }

  result.ok = result.problems.length === 0;
  if (result.ok) result.records = records;
  return result;
}
