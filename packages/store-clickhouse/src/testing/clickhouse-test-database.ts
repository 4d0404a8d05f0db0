import { randomBytes } from 'node:crypto';
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';

/**
 * Test-only helpers for *.int.test.ts: the admin URL from CLICKHOUSE_URL and a unique
 * database per test file (files run in parallel), dropped afterwards. Not built.
 */

/** The admin URL, or undefined (test skipped) when unset outside CI. With CI=true a missing server is a failure. */
export function clickHouseUrl(): string | undefined {
  const url = process.env.CLICKHOUSE_URL;
  if (url === undefined || url === '') {
    if (process.env.CI === 'true')
      throw new Error('CLICKHOUSE_URL is not set and CI=true: ClickHouse integration tests cannot be skipped');
    console.warn('CLICKHOUSE_URL not set: skipping ClickHouse integration tests');
    return undefined;
  }
  return url;
}

/** A database name no other test file uses: t_<label>_<random>. */
export function uniqueDatabase(label: string): string {
  return `t_${label}_${randomBytes(6).toString('hex')}`;
}

/** A raw client for `url`'s credentials with the driver's logging off (server messages may quote test rows). */
export function clientFor(url: string, database: string): ClickHouseClient {
  const u = new URL(url);
  return createClient({
    url: `${u.protocol}//${u.host}`,
    username: u.username === '' ? 'default' : decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** An admin client (database `system`, which exists everywhere). */
export function adminClient(url: string): ClickHouseClient {
  return clientFor(url, 'system');
}

/** Runs a statement as admin (tamper scenarios, checks the store must not be able to do). */
export async function adminCommand(client: ClickHouseClient, query: string): Promise<void> {
  await client.command({ query });
}

/** Rows of a query as admin. */
export async function adminSelect<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** Waits until every mutation of `database` is done (18.16 has no mutations_sync). */
export async function waitForMutations(client: ClickHouseClient, database: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const [row] = await adminSelect<{ pending: string }>(
      client,
      `SELECT toString(count()) AS pending FROM system.mutations WHERE database = '${database}' AND is_done = 0`,
    );
    if (row?.pending === '0') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mutations in ${database} did not finish`);
}

/** Drops the test database. */
export async function dropDatabase(client: ClickHouseClient, database: string): Promise<void> {
  await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
}
