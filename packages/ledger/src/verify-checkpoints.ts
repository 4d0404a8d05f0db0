/**
 * The checkpoint half of verification: which signed checkpoints a log is checked against, in
 * which order, and what is wrong with each before any record is read (signature, key, origin,
 * the store's own columns). verify-log.ts then compares each opened checkpoint with the Merkle
 * root it recomputes as the scan passes the checkpoint's size.
 */
import { openCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { isLedgerError } from './errors.js';
import type { NoteVerifier } from './signed-note.js';

/** A signed checkpoint to check a log against, and where it came from (for messages). */
export interface CheckpointToVerify {
  /** The whole signed note. */
  note: string;
  /** Where it came from, in words: "the store", a file path… Never PHI. */
  source: string;
  /** The store's own size and root columns, when it came from the store: they must equal the note's. */
  stored?: { size: number; rootHex: string };
}

/** Failure kinds a checkpoint itself can cause (before its root is compared). */
export type CheckpointProblemKind = 'checkpoint_unknown_key' | 'checkpoint_invalid' | 'checkpoint_origin';

/** A checkpoint ready for the scan: `size` orders it; `checkpoint` is set only when it opened cleanly. */
export interface PlannedCheckpoint {
  source: string;
  /** The size it claims (0 when not even its body parses), used for ordering and for naming the index. */
  size: number;
  checkpoint?: Checkpoint;
  problem?: { kind: CheckpointProblemKind; message: string };
}

/** The checkpoint body of a note without checking any signature, or undefined when it does not parse. */
export function unverifiedCheckpointOf(note: string): Checkpoint | undefined {
  // A note is "<text>\n\n<signature lines>" and its text ends in "\n": the first blank line ends it.
  const end = note.indexOf('\n\n');
  if (end < 0) return undefined;
  try {
    return parseCheckpoint(note.slice(0, end + 1));
  } catch {
    return undefined;
  }
}

function problemOf(error: unknown, source: string): { kind: CheckpointProblemKind; message: string } {
  if (isLedgerError(error, 'LEDGER_NOTE_UNVERIFIED')) {
    return {
      kind: 'checkpoint_unknown_key',
      message: `checkpoint ${source} is not signed by any trusted verifier key (${error.message})`,
    };
  }
  if (isLedgerError(error, 'LEDGER_NOTE_BAD_SIGNATURE')) {
    return {
      kind: 'checkpoint_invalid',
      message: `checkpoint ${source}: its signature does not verify (the note text was changed)`,
    };
  }
  if (isLedgerError(error)) {
    return { kind: 'checkpoint_invalid', message: `checkpoint ${source} is malformed (${error.code})` };
  }
  throw error;
}

/**
 * Opens every checkpoint with the trusted `verifiers` and orders them by the size they claim
 * (ties: as given). Identical notes are checked once. Never throws for a bad checkpoint: the
 * problem is recorded and reported when the scan reaches the claimed size (or at the end of
 * the log), so an earlier bad record is still named first.
 */
export function planCheckpoints(
  origin: string,
  inputs: readonly CheckpointToVerify[],
  verifiers: readonly NoteVerifier[],
): PlannedCheckpoint[] {
  const seen = new Set<string>();
  const planned: PlannedCheckpoint[] = [];
  for (const input of inputs) {
    if (seen.has(input.note)) continue;
    seen.add(input.note);
    const { source } = input;
    let opened: Checkpoint;
    try {
      opened = openCheckpoint(input.note, verifiers).checkpoint;
    } catch (error) {
      planned.push({ source, size: unverifiedCheckpointOf(input.note)?.size ?? 0, problem: problemOf(error, source) });
      continue;
    }
    const { size } = opened;
    if (opened.origin !== origin) {
      planned.push({
        source,
        size,
        problem: {
          kind: 'checkpoint_origin',
          message: `checkpoint ${source} is signed for log "${opened.origin}", not "${origin}"`,
        },
      });
      continue;
    }
    const stored = input.stored;
    if (stored !== undefined && (stored.size !== size || stored.rootHex !== opened.root.toString('hex'))) {
      planned.push({
        source,
        size,
        problem: {
          kind: 'checkpoint_invalid',
          message: `checkpoint ${source} of size ${size}: the stored size or root column disagrees with its signed note`,
        },
      });
      continue;
    }
    planned.push({ source, size, checkpoint: opened });
  }
  // Array.prototype.sort is stable: equal sizes keep the order given.
  return planned.sort((a, b) => a.size - b.size);
}
