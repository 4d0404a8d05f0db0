import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ClickHouseClient } from '@clickhouse/client';
import { quoteString } from './sql-literal.js';
import { adminClient, clickHouseUrl } from './testing/clickhouse-test-database.js';
import { TRICKY_FRAGMENTS, trickyString } from './testing/tricky-strings.js';

const url = clickHouseUrl();

describe.skipIf(url === undefined)('quoteString against the real server', () => {
  let client: ClickHouseClient;
  beforeAll(() => {
    client = adminClient(url!);
  });
  afterAll(async () => {
    await client?.close();
  });

  /**
   * What the server makes of `SELECT <literal>`, byte for byte: compared as hex so no
   * text decoding (which would drop a leading BOM) stands between the server and the test.
   */
  async function roundTrip(value: string): Promise<string> {
    const rs = await client.query({ query: `SELECT hex(${quoteString(value)}) AS h`, format: 'JSONEachRow' });
    const [row] = await rs.json<{ h: string }>();
    return Buffer.from(row!.h, 'hex').toString('utf8');
  }

  it('every tricky fragment round-trips exactly', async () => {
    for (const fragment of TRICKY_FRAGMENTS) expect(await roundTrip(fragment)).toBe(fragment);
    expect(await roundTrip(TRICKY_FRAGMENTS.join(''))).toBe(TRICKY_FRAGMENTS.join(''));
  });

  it('arbitrary well-formed unicode strings round-trip exactly', async () => {
    await fc.assert(
      fc.asyncProperty(trickyString, async (value) => {
        expect(await roundTrip(value)).toBe(value);
      }),
      { numRuns: 400 },
    );
  });

  it('a quoted value compares equal to itself inside a WHERE clause', async () => {
    await fc.assert(
      fc.asyncProperty(trickyString, async (value) => {
        const rs = await client.query({
          query: `SELECT count() AS n FROM system.one WHERE ${quoteString(value)} = ${quoteString(value)}`,
          format: 'JSONEachRow',
        });
        expect(await rs.json()).toEqual([{ n: '1' }]);
      }),
      { numRuns: 50 },
    );
  });
});
