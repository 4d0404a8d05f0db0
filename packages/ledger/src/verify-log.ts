import { AccessEventSchema } from '@phi-audit/schema';
import { isCanonicalJsonText } from './canonical-check.js';
import { createChainHasher, GENESIS_CHAIN } from './chain.js';
import { createLeafHasher } from './leaf.js';
import type { LogHead, StoredRecord } from './types.js';

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
}

export interface VerifyLogOptions {
  origin: string;
  /** Every stored row of the log in ascending index order, duplicates included. */
  records: AsyncIterable<StoredRecord> | Iterable<StoredRecord>;
  /** Called with the number of verified records every 1,024 records and once at the end. */
  onProgress?: (verified: number) => void;
}

const PROGRESS_MASK = 1023;

/** Ledger position `index` put into words; the genesis case reads better spelled out. */
function previousOf(index: number): string {
  return index === 0 ? 'the genesis value' : `record ${index - 1}`;
}

/**
 * Checks one log record by record, in the order `records` yields them, and stops at the FIRST
 * failure: index continuity (gap, duplicate, order), origin, leaf hash (recomputed from
 * the stored fields), chain (recomputed from genesis), the event itself (valid AccessEvent in
 * RFC 8785 canonical form whose eventId and tenant match the row), the store's own
 * column consistency finding, and strictly increasing source offsets.
 *
 * Throws LEDGER_INVALID_INPUT for an origin that is not well-formed Unicode; rejects with
 * whatever `records` throws (e.g. a store connection error).
 */
export async function verifyLog(options: VerifyLogOptions): Promise<LogVerification> {
  const { origin, onProgress } = options;
  const leaves = createLeafHasher({ origin });
  const chains = createChainHasher(GENESIS_CHAIN);
  let size = 0;
  let chain = GENESIS_CHAIN;
  let lastSourceOffset = -1;
  let seen = 0;

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
    return undefined;
  };

  let failure: VerifyFailure | undefined;
  const step = (r: StoredRecord): boolean => {
    seen += 1;
    failure = check(r);
    if (failure !== undefined) return false;
    if (onProgress !== undefined && (size & PROGRESS_MASK) === 0) onProgress(size);
    return true;
  };

  const { records } = options;
  if (Symbol.asyncIterator in records) {
    for await (const r of records) if (!step(r)) break;
  } else {
    for (const r of records) if (!step(r)) break;
  }
  onProgress?.(size);

  const head: LogHead = { origin, size, chain, lastSourceOffset };
  return failure === undefined
    ? { origin, records: seen, ok: true, head }
    : { origin, records: seen, ok: false, head, failure };
}

/** Why the event of `r` is not acceptable, or undefined when it is. Never echoes event contents. */
function checkEvent(r: StoredRecord): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.eventJson);
  } catch {
    return 'eventJson is not valid JSON';
  }
  const result = AccessEventSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'event' : issue.path.join('.');
    return `event is not a valid AccessEvent (${where}: ${issue?.message ?? 'invalid'})`;
  }
  if (!isCanonicalJsonText(r.eventJson, parsed)) return 'eventJson is not in RFC 8785 canonical form';
  if (result.data.eventId !== r.eventId) return "the eventId column does not match the event's eventId";
  if (result.data.tenant !== r.tenant) return "the tenant column does not match the event's tenant";
  return undefined;
}
