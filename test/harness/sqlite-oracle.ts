import { verifyLog } from '@phi-audit/ledger';
import { createSqliteLedgerStore, ledgerFileIn } from '@phi-audit/store-sqlite';

export interface SqliteLedgerReport {
  /** Every stored event id, in log order. */
  ids: string[];
  lost: string[];
  invented: string[];
  /** Logs whose row count differs from their number of distinct event ids. */
  duplicatedLogs: { log: string; rows: number; distinct: number }[];
  /** Logs that do not verify, with the verifier's message. */
  failures: string[];
  rows: number;
}

/**
 * TESTING.md's no-loss oracle over an embedded (SQLite) data directory, read through the
 * store as `phi-audit verify --data` does: acknowledged − stored = ∅, stored − attempted = ∅,
 * rows = distinct event ids per log, and every log verifies to its head.
 */
export async function checkSqliteLedger(
  dataDir: string,
  expected: { acknowledged?: ReadonlySet<string>; attempted?: ReadonlySet<string> } = {},
): Promise<SqliteLedgerReport> {
  const store = createSqliteLedgerStore({ file: ledgerFileIn(dataDir), readonly: true });
  try {
    const report: SqliteLedgerReport = { ids: [], lost: [], invented: [], duplicatedLogs: [], failures: [], rows: 0 };
    for (const head of await store.heads()) {
      const distinct = new Set<string>();
      let rows = 0;
      for await (const r of store.scan(head.origin)) {
        report.ids.push(r.eventId);
        distinct.add(r.eventId);
        rows += 1;
      }
      report.rows += rows;
      if (rows !== distinct.size) report.duplicatedLogs.push({ log: head.origin, rows, distinct: distinct.size });
      const v = await verifyLog({ origin: head.origin, records: store.scan(head.origin) });
      if (!v.ok || v.head.size !== head.size)
        report.failures.push(`${head.origin}: ${v.failure?.message ?? 'short scan'}`);
    }
    const stored = new Set(report.ids);
    if (expected.acknowledged) report.lost = [...expected.acknowledged].filter((id) => !stored.has(id));
    if (expected.attempted) {
      const attempted = expected.attempted;
      report.invented = report.ids.filter((id) => !attempted.has(id));
    }
    return report;
  } finally {
    await store.close();
  }
}
