import { AccessEventSchema } from '@phi-audit/schema';
import { isCanonicalJsonText } from './canonical-check.js';
import { canonicalEventColumns } from './canonical-event-scan.js';
import { createChainHasher, GENESIS_CHAIN } from './chain.js';
import type { Checkpoint } from './checkpoint.js';
import { isSortedValidAccessEventFast } from './fast-event-check.js';
import { createLeafHasher } from './leaf.js';
import { createMerkleAccumulator, type MerkleAccumulator } from './merkle.js';
import type { NoteVerifier } from './signed-note.js';
import type { LogHead, StoredRecord } from './types.js';
import { planCheckpoints, type CheckpointToVerify, type PlannedCheckpoint } from './verify-checkpoints.js';
import { createTileChecker, type ReadTiles, type TileCheckSummary } from './verify-tiles.js';

/** Why a log failed verification. Each kind's message names the index. */
export const VERIFY_FAILURE_KINDS = [
  'index_gap',
  'index_duplicate',
  'index_order',
  'origin_mismatch',
  'event_invalid',
  'leaf_hash_mismatch',
  'chain_mismatch',
  'column_mismatch',
  'source_offset_order',
  'checkpoint_unknown_key',
  'checkpoint_invalid',
  'checkpoint_origin',
  'checkpoint_root_mismatch',
  'log_truncated',
  'tile_mismatch',
] as const;
export type VerifyFailureKind = (typeof VERIFY_FAILURE_KINDS)[number];

/** The first thing wrong with a log. `index` is the first log position that cannot be trusted. */
export interface VerifyFailure {
  index: number;
  kind: VerifyFailureKind;
  /** Plain language, names the index, never contains event contents. */
  message: string;
}

export interface LogVerification {
  origin: string;
  /** Rows read from the source, including the failing one. */
  records: number;
  ok: boolean;
  /** Head of the verified prefix (the whole log when ok). */
  head: LogHead;
  failure?: VerifyFailure;
  /** Present when checkpoints were given: how many matched the recomputed tree, and the largest size among them. */
  checkpoints?: { checked: number; latestSize?: number };
  /** Present when tiles were read (`readTiles` given). */
  tiles?: TileCheckSummary;
}

export interface VerifyLogOptions {
  origin: string;
  /** Every stored row of the log in ascending index order, duplicates included. */
  records: AsyncIterable<StoredRecord> | Iterable<StoredRecord>;
  /** Called with the number of verified records every 1,024 records and once at the end. */
  onProgress?: (verified: number) => void;
  /**
   * Signed checkpoints to check the log against: the store's and trusted ones (exported,
   * saved by an auditor) together, any order. Each must be signed by one of `verifiers`, name
   * this origin, claim no more records than the log holds, and state the Merkle root
   * recomputed from the records at its size.
   */
  checkpoints?: readonly CheckpointToVerify[];
  /** Trusted checkpoint verifier keys. */
  verifiers?: readonly NoteVerifier[];
  /**
   * The store's Merkle tiles of this log: when given, every tile is compared with the tree
   * recomputed from the records, and the consistency proof between consecutive checkpoints is
   * rebuilt from them and verified. Missing tiles are counted, not failures.
   */
  readTiles?: ReadTiles;
}

const PROGRESS_MASK = 1023;

/** Ledger position `index` put into words; the genesis case reads better spelled out. */
function previousOf(index: number): string {
  return index === 0 ? 'the genesis value' : `record ${index - 1}`;
}

/** "records A…B" for a non-empty range, in words. */
function recordRange(from: number, to: number): string {
  return from === to - 1 ? `record ${from}` : `records ${from}…${to - 1}`;
}

/** The failure a planned checkpoint causes when the scan stands at `size` records, if any. */
function checkpointFailure(
  p: PlannedCheckpoint,
  size: number,
  root: () => Buffer,
  lastMatched: number,
): VerifyFailure | undefined {
  if (p.problem !== undefined) return { index: size, kind: p.problem.kind, message: p.problem.message };
  const checkpoint = p.checkpoint as Checkpoint;
  if (checkpoint.size > size) {
    return {
      index: size,
      kind: 'log_truncated',
      message: `${recordRange(size, checkpoint.size)} are missing: checkpoint ${p.source} says the log has ${checkpoint.size} records, the store holds ${size}`,
    };
  }
  if (root().equals(checkpoint.root)) return undefined;
  const changed =
    lastMatched < size ? `${recordRange(lastMatched, size)} were changed, removed or reordered` : 'the log was changed';
  return {
    index: lastMatched,
    kind: 'checkpoint_root_mismatch',
    message: `${changed}: the Merkle root of the first ${size} records does not match checkpoint ${p.source} (signed root of size ${size}; the last checkpoint that matched has size ${lastMatched})`,
  };
}

const NEXT = 0;
const STOP = 1;
/** Continue, but asynchronous work (tile comparison, a consistency proof) is due first. */
const AWAIT = 2;

/**
 * Checks one log record by record, in the order `records` yields them, and stops at the FIRST
 * failure: index continuity (gap, duplicate, order), origin, leaf hash (recomputed from
 * the stored fields), chain (recomputed from genesis), the event itself (valid AccessEvent in
 * RFC 8785 canonical form whose eventId and tenant match the row), the store's own
 * column consistency finding, and strictly increasing source offsets.
 *
 * Every verified leaf hash also feeds an RFC 9162 Merkle tree (O(log n) memory): each given
 * checkpoint is opened first (unknown key, bad signature, other origin, store columns that
 * disagree with the note), then checked as the scan passes its size — its root must equal the
 * recomputed root (else `checkpoint_root_mismatch` at the size of the last checkpoint that
 * matched) — and a checkpoint larger than the log is `log_truncated` at the log's size. With
 * `readTiles`, the stored tiles are compared with the recomputed tree (`tile_mismatch` at the
 * first leaf of the bad tile). When several problems exist the lowest index is reported.
 *
 * Throws LEDGER_INVALID_INPUT for an origin that is not well-formed Unicode; rejects with
 * whatever `records` or `readTiles` throws (e.g. a store connection error).
 */
export async function verifyLog(options: VerifyLogOptions): Promise<LogVerification> {
  const { origin, onProgress } = options;
  const leaves = createLeafHasher({ origin });
  const chains = createChainHasher(GENESIS_CHAIN);
  // The Merkle tree of the verified leaves: when tiles are checked, the tiles rebuilt for the
  // comparison already are that tree (their root is the MTH), so the leaves are hashed into
  // one structure only.
  const tree = options.readTiles === undefined ? createMerkleAccumulator() : undefined;
  const plan =
    options.checkpoints === undefined ? [] : planCheckpoints(origin, options.checkpoints, options.verifiers ?? []);
  const tiles = options.readTiles === undefined ? undefined : createTileChecker(options.readTiles);
  let size = 0;
  let chain = GENESIS_CHAIN;
  let lastSourceOffset = -1;
  let seen = 0;
  let nextCheckpoint = 0;
  let matched: Checkpoint | undefined;
  let matchedCount = 0;
  let proofDue: [Checkpoint, Checkpoint] | undefined;

  const check = (r: StoredRecord): VerifyFailure | undefined => {
    const i = size;
    if (r.origin !== origin) {
      return {
        index: i,
        kind: 'origin_mismatch',
        message: `record at index ${i} belongs to log "${String(r.origin)}", not "${origin}"`,
      };
    }
    const at = r.index;
    if (at !== i) {
      if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
        return { index: i, kind: 'index_order', message: `expected index ${i}, found a row with no valid index` };
      }
      if (at > i) {
        const missing = at - i === 1 ? `record ${i} is missing` : `records ${i} to ${at - 1} are missing`;
        return {
          index: i,
          kind: 'index_gap',
          message: `${missing}: expected index ${i}, found ${at} (rows were deleted)`,
        };
      }
      if (at === i - 1) {
        return {
          index: at,
          kind: 'index_duplicate',
          message: `index ${at} appears twice (a row was duplicated, or a forged row was inserted)`,
        };
      }
      return {
        index: at,
        kind: 'index_order',
        message: `index ${at} appears again after index ${i - 1} (rows out of order, or index ${at} duplicated)`,
      };
    }
    const { eventId, eventJson, sourceOffset } = r;
    if (
      typeof eventId !== 'string' ||
      typeof eventJson !== 'string' ||
      !eventId.isWellFormed() ||
      !eventJson.isWellFormed()
    ) {
      return {
        index: i,
        kind: 'event_invalid',
        message: `record ${i}: eventId or eventJson is not a well-formed Unicode string`,
      };
    }
    if (typeof sourceOffset !== 'number' || !Number.isSafeInteger(sourceOffset) || sourceOffset < 0) {
      return {
        index: i,
        kind: 'source_offset_order',
        message: `record ${i}: source offset is not a non-negative integer`,
      };
    }
    const leafHash = leaves.hashHex(i, sourceOffset, eventId, eventJson);
    if (leafHash !== r.leafHash) {
      return {
        index: i,
        kind: 'leaf_hash_mismatch',
        message: `record ${i}: stored leaf hash does not match the recomputed one: its content (event, eventId, index or source offset) was changed`,
      };
    }
    const nextChain = chains.next(leafHash);
    if (nextChain !== r.chain) {
      return {
        index: i,
        kind: 'chain_mismatch',
        message: `record ${i}: stored chain value does not follow from ${previousOf(i)}: a record was removed, reordered or forged`,
      };
    }
    const eventProblem = checkEvent(r);
    if (eventProblem !== undefined) return { index: i, kind: 'event_invalid', message: `record ${i}: ${eventProblem}` };
    if (r.columnMismatch !== undefined) {
      return {
        index: i,
        kind: 'column_mismatch',
        message: `record ${i}: the stored ${r.columnMismatch} column does not match the event (query column changed)`,
      };
    }
    if (sourceOffset <= lastSourceOffset) {
      return {
        index: i,
        kind: 'source_offset_order',
        message: `record ${i}: source offset ${sourceOffset} is not greater than ${lastSourceOffset}, the offset of record ${i - 1}`,
      };
    }
    size = i + 1;
    chain = nextChain;
    lastSourceOffset = sourceOffset;
    // The chain hasher already holds the leaf hash as bytes (both consumers copy it).
    const leafBytes = chains.lastLeafBytes();
    if (tiles !== undefined) tiles.append(leafBytes);
    else tree?.append(leafBytes);
    return undefined;
  };

  const rootNow = (): Buffer => (tiles !== undefined ? tiles.root() : (tree as MerkleAccumulator).root());

  /** Checks every checkpoint of exactly the current size (the plan is sorted by size). */
  const checkpointsHere = (): VerifyFailure | undefined => {
    for (let p = plan[nextCheckpoint]; p !== undefined && p.size <= size; p = plan[nextCheckpoint]) {
      nextCheckpoint += 1;
      const found = checkpointFailure(p, size, rootNow, matched?.size ?? 0);
      if (found !== undefined) return found;
      const checkpoint = p.checkpoint as Checkpoint;
      matchedCount += 1;
      if (tiles !== undefined && matched !== undefined && matched.size < checkpoint.size) {
        proofDue = [matched, checkpoint];
      }
      matched = checkpoint;
    }
    return undefined;
  };

  let failure: VerifyFailure | undefined;
  const step = (r: StoredRecord): number => {
    seen += 1;
    failure = check(r);
    if (failure !== undefined) return STOP;
    if (onProgress !== undefined && (size & PROGRESS_MASK) === 0) onProgress(size);
    if (nextCheckpoint < plan.length && (plan[nextCheckpoint] as PlannedCheckpoint).size === size) {
      failure = checkpointsHere();
      if (failure !== undefined) return STOP;
    }
    return tiles !== undefined && (tiles.due || proofDue !== undefined) ? AWAIT : NEXT;
  };
  /** The asynchronous tile work: pending tile comparisons, then a due consistency proof. */
  const tileWork = async (): Promise<number> => {
    if (tiles === undefined) return NEXT;
    failure = await tiles.compare(false);
    if (failure === undefined && proofDue !== undefined) {
      const [older, newer] = proofDue;
      proofDue = undefined;
      failure = await tiles.proveConsistency(older, newer);
    }
    return failure === undefined ? NEXT : STOP;
  };

  failure = checkpointsHere();
  const { records } = options;
  if (failure === undefined) {
    if (Symbol.asyncIterator in records) {
      for await (const r of records) {
        const s = step(r);
        if (s === STOP || (s === AWAIT && (await tileWork()) === STOP)) break;
      }
    } else {
      for (const r of records) {
        const s = step(r);
        if (s === STOP || (s === AWAIT && (await tileWork()) === STOP)) break;
      }
    }
  }
  onProgress?.(size);

  // The end of the log: the next checkpoint (if any) is larger than the log.
  if (failure === undefined) {
    const p = plan[nextCheckpoint];
    if (p !== undefined) failure = checkpointFailure(p, size, rootNow, matched?.size ?? 0);
  }
  if (tiles !== undefined) {
    // Tiles under the verified prefix are compared even when a record failed: a bad tile at a
    // lower index is the first thing that cannot be trusted.
    const tileFailure = failure?.kind === 'tile_mismatch' ? undefined : await tiles.compare(failure === undefined);
    if (tileFailure !== undefined && (failure === undefined || tileFailure.index < failure.index))
      failure = tileFailure;
  }

  const head: LogHead = { origin, size, chain, lastSourceOffset };
  const result: LogVerification =
    failure === undefined
      ? { origin, records: seen, ok: true, head }
      : { origin, records: seen, ok: false, head, failure };
  if (options.checkpoints !== undefined) {
    result.checkpoints =
      matched === undefined ? { checked: matchedCount } : { checked: matchedCount, latestSize: matched.size };
  }
  if (tiles !== undefined) result.tiles = tiles.summary();
  return result;
}

/** Why the event of `r` is not acceptable, or undefined when it is. Never echoes event contents. */
function checkEvent(r: StoredRecord): string | undefined {
  // The hot path: one pass over the text that recognises canonical valid events outright
  // (canonical-event-scan.ts); shared with the store's column check of the same row.
  const columns = canonicalEventColumns(r.eventJson);
  if (columns !== undefined) {
    if (columns.event_id !== r.eventId) return "the eventId column does not match the event's eventId";
    if (columns.tenant !== r.tenant) return "the tenant column does not match the event's tenant";
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.eventJson);
  } catch {
    return 'eventJson is not valid JSON';
  }
  let event: { eventId: string; tenant: string };
  // Next: a hand-written check that implies what zod and the canonical check would accept
  // (fast-event-check.ts); anything it is unsure of takes the full path below.
  if (isSortedValidAccessEventFast(parsed)) {
    if (JSON.stringify(parsed) !== r.eventJson) return 'eventJson is not in RFC 8785 canonical form';
    event = parsed as { eventId: string; tenant: string };
  } else {
    const result = AccessEventSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? 'event' : issue.path.join('.');
      return `event is not a valid AccessEvent (${where}: ${issue?.message ?? 'invalid'})`;
    }
    if (!isCanonicalJsonText(r.eventJson, parsed)) return 'eventJson is not in RFC 8785 canonical form';
    event = result.data;
  }
  if (event.eventId !== r.eventId) return "the eventId column does not match the event's eventId";
  if (event.tenant !== r.tenant) return "the tenant column does not match the event's tenant";
  return undefined;
}
