import type { StoredCheckpoint } from './checkpoint.js';
import type { Tile, TileId } from './tiles.js';

/**
 * Types shared by the ledger writer, both stores and the verifier. No I/O here.
 */

/** One ledger row as the writer produces it and the stores keep it. */
export interface LedgerRecord {
  /** The log this record belongs to, e.g. `phi-audit/access-events/3`. */
  origin: string;
  /** 0-based position in its log; contiguous. */
  index: number;
  /** Position in the source stream (Kafka offset; embedded mode: the ingest sequence). */
  sourceOffset: number;
  eventId: string;
  tenant: string;
  /** RFC 8785 canonical JSON of the AccessEvent; the bytes that are hashed. */
  eventJson: string;
  /** SHA-256(0x00 ‖ leaf), lowercase hex. */
  leafHash: string;
  /** SHA-256(previous chain ‖ leaf hash), lowercase hex; the previous chain of index 0 is 32 zero bytes. */
  chain: string;
}

/** What a store hands back when scanning: the record plus the store's own consistency finding. */
export interface StoredRecord extends LedgerRecord {
  /**
   * Set when the store's denormalised query columns (patient, user, time, …) disagree with
   * `eventJson`; names the column. Tampering with a query column must not go unnoticed.
   */
  columnMismatch?: string;
}

/** Where a log ends, so a writer can resume and a verifier can compare. */
export interface LogHead {
  origin: string;
  /** Number of records = next index. */
  size: number;
  /** Chain value of the last record (genesis when empty). */
  chain: string;
  /** Source offset of the last record, -1 when empty. */
  lastSourceOffset: number;
}

/** A Merkle tile of one log, as the stores keep it (see tiles.ts). */
export interface LogTile extends Tile {
  origin: string;
}

/**
 * The store interface both adapters (ClickHouse, SQLite) implement.
 * `append` is all-or-nothing per call.
 */
export interface LedgerStore {
  /** Heads of every log that has at least one record. */
  heads(): Promise<LogHead[]>;
  /** Head of one log (size 0 and genesis chain when it has no records). */
  head(origin: string): Promise<LogHead>;
  /**
   * Stores records and, when given, the Merkle tiles they change (TileBuilder.takeChanged()).
   * SQLite: one transaction for both. ClickHouse: the records in one insert, then the tiles in
   * a second; tiles that lag their records after a crash are rebuilt by the writer on load
   * (tileCoverage + scan), and never trusted by verification.
   */
  append(records: readonly LedgerRecord[], tiles?: readonly LogTile[]): Promise<void>;
  /**
   * Upserts tiles: per (origin, level, index) the widest version stored wins; a narrower or
   * equal one never replaces it.
   */
  putTiles(tiles: readonly LogTile[]): Promise<void>;
  /** The widest stored version of each requested tile of `origin`; absent ones are omitted; any order. */
  readTiles(origin: string, ids: readonly TileId[]): Promise<LogTile[]>;
  /** Leaves covered by the stored level-0 tiles of `origin`: max(index·256 + width), 0 when none. */
  tileCoverage(origin: string): Promise<number>;
  /** Stores a signed checkpoint (a duplicate of a stored one is harmless). */
  putCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** Every stored checkpoint of `origin`, ascending size (then signedAt), as stored. */
  checkpoints(origin: string): Promise<StoredCheckpoint[]>;
  /** The stored checkpoint of `origin` with the largest size, or undefined. */
  latestCheckpoint(origin: string): Promise<StoredCheckpoint | undefined>;
  /** Origins that have at least one stored checkpoint, sorted. */
  checkpointedLogs(): Promise<string[]>;
  /** The stored rows of `origin` at these indexes (duplicates included), ascending index. */
  recordsAt(origin: string, indexes: readonly number[]): Promise<StoredRecord[]>;
  /** Stored rows of `tenant` whose eventId is one of `eventIds` (any source system, any log), by origin then index. */
  recordsByEventId(tenant: string, eventIds: readonly string[]): Promise<StoredRecord[]>;
  /** Every stored row of a log in ascending index order, duplicates included, as stored. */
  scan(origin: string, options?: { fromIndex?: number }): AsyncIterable<StoredRecord>;
  /**
   * The idempotency keys (tenant, source system, event id) of the last `count` records of a
   * log: those with index ≥ size − count, in ascending index order (fewer when the log is
   * shorter). The writer's duplicate window is loaded from this.
   */
  recentKeys(
    origin: string,
    count: number,
  ): Promise<{ index: number; tenant: string; sourceSystem: string; eventId: string }[]>;
  close(): Promise<void>;
}

/** The read side of a store that `phi-audit verify` needs. */
export type VerifiableStore = Pick<
  LedgerStore,
  'heads' | 'scan' | 'checkpoints' | 'checkpointedLogs' | 'readTiles' | 'tileCoverage'
>;

/** The read side of a store that proofs and evidence bundles need. */
export type ProofStore = Pick<
  LedgerStore,
  | 'heads'
  | 'head'
  | 'readTiles'
  | 'latestCheckpoint'
  | 'checkpoints'
  | 'checkpointedLogs'
  | 'recordsAt'
  | 'recordsByEventId'
>;
