import { createClient } from '@clickhouse/client';

export interface OracleReport {
  lost: string[];
  invented: string[];
  /** Logs whose row count differs from their number of distinct event ids. */
  duplicatedLogs: { log: string; rows: number; distinct: number }[];
  storedRows: number;
}

/**
 * TESTING.md's no-loss oracle over a ClickHouse ledger database:
 * acknowledged − stored = ∅, stored − attempted = ∅, count() = uniqExact(eventId) per log.
 * (`phi-audit verify` is run separately, as a user would.)
 */
export async function checkNoLoss(options: {
  clickhouseUrl: string;
  database: string;
  acknowledged: ReadonlySet<string>;
  attempted: ReadonlySet<string>;
}): Promise<OracleReport> {
  const client = createClient({ url: options.clickhouseUrl, database: options.database });
  try {
    const perLog = await (
      await client.query({
        query:
          'SELECT log, toString(count()) AS rows, toString(uniqExact(event_id)) AS distinct FROM access_log GROUP BY log',
        format: 'JSONEachRow',
      })
    ).json<{ log: string; rows: string; distinct: string }>();
    const stored = new Set<string>();
    const ids = await client.query({ query: 'SELECT event_id FROM access_log', format: 'JSONEachRow' });
    for await (const rows of ids.stream()) {
      for (const row of rows) stored.add(row.json<{ event_id: string }>().event_id);
    }
    return {
      lost: [...options.acknowledged].filter((id) => !stored.has(id)),
      invented: [...stored].filter((id) => !options.attempted.has(id)),
      duplicatedLogs: perLog
        .map((r) => ({ log: r.log, rows: Number(r.rows), distinct: Number(r.distinct) }))
        .filter((r) => r.rows !== r.distinct),
      storedRows: perLog.reduce((sum, r) => sum + Number(r.rows), 0),
    };
  } finally {
    await client.close();
  }
}

/** Number of rows in the ledger database (0 while the table does not exist yet). */
export async function countRows(clickhouseUrl: string, database: string): Promise<number> {
  const client = createClient({ url: clickhouseUrl, database });
  try {
    const rows = await (
      await client.query({ query: 'SELECT toString(count()) AS n FROM access_log', format: 'JSONEachRow' })
    ).json<{ n: string }>();
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.close();
  }
}
