/**
 * Checkpoints (C2SP tlog-checkpoint): the signed statement "log <origin> has <size> records
 * and Merkle root <root>". Body = origin "\n" size "\n" base64(root) "\n", signed as a note.
 */
import type { NoteSigner, NoteVerifier } from './signed-note.js';

/** What a checkpoint states. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** 32-byte Merkle root. */
  root: Buffer;
}

/** A signed checkpoint as the stores keep it. */
export interface StoredCheckpoint {
  origin: string;
  size: number;
  /** Root as lowercase hex (same value as in the note). */
  rootHex: string;
  /** The whole signed note. */
  note: string;
  /** When it was signed, epoch ms (the signer's clock; not part of the signed text). */
  signedAt: number;
}

/**
 * The checkpoint body. Throws LEDGER_INVALID_INPUT for an origin that is empty, contains a
 * newline or is not well-formed, a size that is not a non-negative safe integer, or a root
 * that is not 32 bytes.
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  void checkpoint;
  throw new Error('not implemented');
}

/**
 * Parses a checkpoint body strictly (exactly three lines plus optional extension lines,
 * decimal size without leading zeros, canonical base64 root of 32 bytes). Throws
 * LEDGER_CHECKPOINT_MALFORMED.
 */
export function parseCheckpoint(text: string): Checkpoint {
  void text;
  throw new Error('not implemented');
}

/** Signs a checkpoint: the note text (formatCheckpoint + signature line). */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  void checkpoint;
  void signer;
  throw new Error('not implemented');
}

/**
 * Opens a signed checkpoint with the trusted verifiers (openNote, then parseCheckpoint).
 * Throws the openNote errors or LEDGER_CHECKPOINT_MALFORMED.
 */
export function openCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
): { checkpoint: Checkpoint; verifiedBy: NoteVerifier[] } {
  void note;
  void verifiers;
  throw new Error('not implemented');
}
