/**
 * A quick health check of one log for a dashboard: its head, its latest signed checkpoint,
 * whether that checkpoint verifies with the trusted keys, and whether the Merkle tiles the
 * proofs are served from still lead to the signed root. It reads the head, one checkpoint and
 * the tiles of the checkpoint's tree — not the records; `phi-audit verify` is the full check.
 */
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { isLedgerError } from './errors.js';
import { emptyRoot } from './merkle.js';
import { hashRanges } from './proofs.js';
import { openNote, type NoteVerifier } from './signed-note.js';
import { createTileNodeReader } from './tiles.js';
import type { ProofStore } from './types.js';

/** What a log's status reads from a store. */
export type LogStatusStore = Pick<ProofStore, 'head' | 'latestCheckpoint' | 'readTiles'>;

/** The status of one log. Holds no event contents: origins, sizes, times, key names. */
export interface LogStatus {
  origin: string;
  /** Records in the log (its head). */
  size: number;
  /** The stored checkpoint with the largest size, or null when none is stored yet. */
  checkpoint: {
    size: number;
    /** When it was signed, epoch ms (the signer's clock). */
    timestamp: number;
    /** The key that signed it: the verified one, else the first signature line's name ('' when unreadable). */
    keyName: string;
  } | null;
  /** The checkpoint verifies with a trusted key and states this log's origin and the stored size and root. */
  signatureValid: boolean;
  /** Records not yet covered by a checkpoint: size − checkpoint size (the whole log when none). */
  uncheckpointed: number;
  /** The tree root recomputed from the stored tiles at the checkpoint's size equals the signed root; null without a checkpoint. */
  rootMatchesTiles: boolean | null;
  /** Why a check failed, in plain words (codes and sizes, no contents); absent when all is well. */
  problems: string[];
  /** When the check ran, epoch ms. */
  checkedAt: number;
}

const SIGNATURE_PREFIX = '\u2014 ';

/** The key names on a note's signature lines, read without checking anything (for display only). */
function signatureNames(note: string): string[] {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return [];
  return note
    .slice(split + 2)
    .split('\n')
    .filter((line) => line.startsWith(SIGNATURE_PREFIX))
    .map((line) => line.slice(SIGNATURE_PREFIX.length).split(' ')[0] ?? '');
}

function describe(error: unknown): string {
  if (isLedgerError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.name : 'unknown error';
}

/**
 * Checks one log (see the module comment). Store failures reject; everything the check finds
 * wrong is reported in the result (signatureValid / rootMatchesTiles false, `problems`).
 */
export async function checkLogStatus(options: {
  store: LogStatusStore;
  origin: string;
  trustedKeys: readonly NoteVerifier[];
  now?: () => number;
}): Promise<LogStatus> {
  const { store, origin, trustedKeys } = options;
  const [head, stored] = await Promise.all([store.head(origin), store.latestCheckpoint(origin)]);
  const checkedAt = (options.now ?? Date.now)();
  const problems: string[] = [];
  if (stored === undefined) {
    return {
      origin,
      size: head.size,
      checkpoint: null,
      signatureValid: false,
      uncheckpointed: head.size,
      rootMatchesTiles: null,
      problems: ['no checkpoint is stored for this log yet'],
      checkedAt,
    };
  }

  let signed: Checkpoint | undefined;
  let keyName = signatureNames(stored.note)[0] ?? '';
  let signatureValid = false;
  if (trustedKeys.length === 0) {
    problems.push('no verifier key is configured: the signature cannot be checked');
  } else {
    try {
      const opened = openNote(stored.note, trustedKeys);
      signed = parseCheckpoint(opened.text);
      keyName = opened.verifiedBy[0]?.name ?? keyName;
      if (signed.origin !== origin) problems.push('the signed checkpoint names another log');
      else if (signed.size !== stored.size || signed.root.toString('hex') !== stored.rootHex) {
        problems.push('the stored size or root differs from the signed checkpoint');
      } else signatureValid = true;
    } catch (error) {
      problems.push(`the checkpoint does not verify with the trusted keys (${describe(error)})`);
    }
  }
  if (head.size < stored.size)
    problems.push(`the log has ${head.size} records, fewer than its checkpoint's ${stored.size}`);

  // Compare with the signed root when the note verified, else with the stored one (still worth knowing).
  const size = signed?.size ?? stored.size;
  const expected = signed?.root.toString('hex') ?? stored.rootHex;
  let rootMatchesTiles = false;
  try {
    const root =
      size === 0
        ? emptyRoot()
        : (
            await hashRanges(
              [[0, size]],
              createTileNodeReader((ids) => store.readTiles(origin, ids), size),
            )
          )[0];
    rootMatchesTiles = root?.toString('hex') === expected;
    if (!rootMatchesTiles)
      problems.push(`the root recomputed from the stored tiles at size ${size} differs from the checkpoint's`);
  } catch (error) {
    if (!isLedgerError(error)) throw error;
    problems.push(`the tiles cannot give the root at size ${size} (${describe(error)})`);
  }

  return {
    origin,
    size: head.size,
    checkpoint: { size: stored.size, timestamp: stored.signedAt, keyName },
    signatureValid,
    uncheckpointed: Math.max(0, head.size - stored.size),
    rootMatchesTiles,
    problems,
    checkedAt,
  };
}
