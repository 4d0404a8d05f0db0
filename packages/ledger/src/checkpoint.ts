/**
 * Checkpoints (C2SP tlog-checkpoint): the signed statement "log <origin> has <size> records
 * and Merkle root <root>". Body = origin "\n" size "\n" base64(root) "\n", signed as a note.
 */
import { LedgerError } from './errors.js';
import { openNote, signNote } from './signed-note.js';
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

const ROOT_BYTES = 32;
// A note cannot carry control characters other than "\n" (C2SP signed-note).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHAR = /[\u0000-\u001f]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHAR_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f]/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * The checkpoint body. Throws LEDGER_INVALID_INPUT for an origin that is empty, contains a
 * newline or is not well-formed, a size that is not a non-negative safe integer, or a root
 * that is not 32 bytes.
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root } = checkpoint;
  if (origin.length === 0 || !origin.isWellFormed() || CONTROL_CHAR.test(origin)) {
    throw new LedgerError(
      'LEDGER_INVALID_INPUT',
      'checkpoint origin must be non-empty, well-formed text without newlines or control characters',
    );
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new LedgerError('LEDGER_INVALID_INPUT', 'checkpoint size must be a non-negative safe integer');
  }
  if (!Buffer.isBuffer(root) || root.length !== ROOT_BYTES) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `checkpoint root must be ${ROOT_BYTES} bytes`);
  }
  // Extension lines are never emitted: they are not auditable by monitors (tlog-checkpoint).
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

function malformed(message: string): LedgerError {
  return new LedgerError('LEDGER_CHECKPOINT_MALFORMED', message);
}

/**
 * Parses a checkpoint body strictly (exactly three lines plus optional extension lines,
 * decimal size without leading zeros, canonical base64 root of 32 bytes). Throws
 * LEDGER_CHECKPOINT_MALFORMED.
 *
 * Extension lines must be non-empty; they are accepted and dropped (nothing here uses them).
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('checkpoint must end with a newline');
  if (!text.isWellFormed()) throw malformed('checkpoint is not well-formed Unicode');
  if (CONTROL_CHAR_EXCEPT_NEWLINE.test(text)) throw malformed('checkpoint contains a control character');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('checkpoint must have origin, size and root lines');
  if (lines.some((line) => line.length === 0)) throw malformed('checkpoint has an empty line');
  const [origin = '', sizeText = '', rootText = ''] = lines;
  if (!DECIMAL.test(sizeText)) throw malformed('checkpoint size is not a decimal number without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw malformed('checkpoint size is larger than 2^53-1');
  const root = Buffer.from(rootText, 'base64');
  if (root.toString('base64') !== rootText || root.length !== ROOT_BYTES) {
    throw malformed(`checkpoint root is not the canonical base64 of ${ROOT_BYTES} bytes`);
  }
  return { origin, size, root };
}

/** Signs a checkpoint: the note text (formatCheckpoint + signature line). */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(checkpoint), [signer]);
}

/**
 * Opens a signed checkpoint with the trusted verifiers (openNote, then parseCheckpoint).
 * Throws the openNote errors or LEDGER_CHECKPOINT_MALFORMED.
 */
export function openCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
): { checkpoint: Checkpoint; verifiedBy: NoteVerifier[] } {
  const { text, verifiedBy } = openNote(note, verifiers);
  return { checkpoint: parseCheckpoint(text), verifiedBy };
}
