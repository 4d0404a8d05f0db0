import type { AccessQueryStore, AccessVolumeStore, LedgerRecord, LedgerStore } from '@phi-audit/ledger';

/**
 * What the conformance suite exercises: the ledger contract, the console's access queries and
 * access volume, and the two row counts both adapters offer (duplicates counted).
 */
export type ConformanceStore = LedgerStore &
  AccessQueryStore &
  AccessVolumeStore & {
    logs(): Promise<{ origin: string; records: number }[]>;
    countsByTenant(): Promise<{ tenant: string; records: number }[]>;
  };

/**
 * Raw, store-specific writes an attacker with access to the storage could make, bypassing
 * the store. Each resolves when the change is visible to the store's reads.
 */
export interface TamperHooks {
  /** Rewrites the stored event_json of the row(s) at `index`. */
  updateEventJson(origin: string, index: number, replace: (json: string) => string): Promise<void>;
  /** Sets one column (by its storage name: 'user_id', 'patient_id', 'tenant', 'occurred_ms', …) of the row(s) at `index`. */
  updateColumn(origin: string, index: number, column: string, value: string | number): Promise<void>;
  /** Deletes the row(s) at `index`. */
  deleteRecord(origin: string, index: number): Promise<void>;
  /** Stores a second, identical copy of the row at `index`. */
  duplicateRecord(origin: string, index: number): Promise<void>;
  /** Exchanges the positions (index values) of the rows at `i` and `j`. */
  swapRecords(origin: string, i: number, j: number): Promise<void>;
  /** Writes a forged row for `record`, as stored by the store's own mapping, without any checks. */
  insertRow(record: LedgerRecord): Promise<void>;
  /** Rewrites the note text of the stored checkpoint(s) of `origin` at `size` (the size and root columns stay). */
  updateCheckpointNote(origin: string, size: number, replace: (note: string) => string): Promise<void>;
  /** Deletes every stored checkpoint of `origin`. */
  deleteCheckpoints(origin: string): Promise<void>;
  /** Rewrites the hashes of the widest stored version of a Merkle tile of `origin` (same length). */
  updateTile(origin: string, level: number, index: number, replace: (hashes: Buffer) => Buffer): Promise<void>;
  /** Deletes every record and tile of `origin`; its checkpoints stay. */
  deleteLog(origin: string): Promise<void>;
}

/** One opened store under test. */
export interface OpenedStore {
  store: ConformanceStore;
  /** Closes `store` and opens a new store on the same data (a process restart); `store` is not used afterwards. */
  reopen(): Promise<ConformanceStore>;
  tamper: TamperHooks;
  /** Closes whichever store is current and releases what open() created. */
  close(): Promise<void>;
}

export interface ConformanceHarness {
  open(): Promise<OpenedStore>;
}
