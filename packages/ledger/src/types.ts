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

/**
 * The store interface both adapters (ClickHouse, SQLite) implement.
 * `append` is all-or-nothing per call.
 */
export interface LedgerStore {
  /** Heads of every log that has at least one record. */
  heads(): Promise<LogHead[]>;
  /** Head of one log (size 0 and genesis chain when it has no records). */
  head(origin: string): Promise<LogHead>;
  append(records: readonly LedgerRecord[]): Promise<void>;
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
export type VerifiableStore = Pick<LedgerStore, 'heads' | 'scan'>;
