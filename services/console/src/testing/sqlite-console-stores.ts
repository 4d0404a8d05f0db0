import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessEvent } from '@phi-audit/schema';
import {
  createSqliteDetectionStore,
  createSqliteLedgerStore,
  detectionFileIn,
  ledgerFileIn,
  type SqliteDetectionStore,
  type SqliteLedgerStore,
} from '@phi-audit/store-sqlite';
import { createSqliteLedgerAppender } from './sqlite-ledger-appender.js';

/** Real SQLite detection and ledger stores in a fresh temp dir, as embedded mode lays them out (tests only). */
export interface SqliteConsoleStores {
  dir: string;
  detection: SqliteDetectionStore;
  ledger: SqliteLedgerStore;
  /** Appends events to the ledger (createSqliteLedgerAppender); usable as an audit trail's `publish`. */
  append: (events: readonly AccessEvent[]) => Promise<void>;
  /** Closes both stores and removes the dir. */
  close(): Promise<void>;
}

/** Opens the stores in a new temp dir named after `prefix`. */
export function openSqliteConsoleStores(prefix: string): SqliteConsoleStores {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const detection = createSqliteDetectionStore({ file: detectionFileIn(dir) });
  const ledger = createSqliteLedgerStore({ file: ledgerFileIn(dir) });
  return {
    dir,
    detection,
    ledger,
    append: createSqliteLedgerAppender(ledger),
    close: async () => {
      await detection.close();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
