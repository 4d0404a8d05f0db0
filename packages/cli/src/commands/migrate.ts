import type { Command } from 'commander';
import { createClickHouseLedgerStore } from '@phi-audit/store-clickhouse';

/** `phi-audit migrate`: applies pending ClickHouse schema migrations with an admin account. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending ClickHouse schema migrations (needs an account allowed to run DDL)')
    .option('--clickhouse <url>', 'ClickHouse HTTP URL with admin credentials', process.env.CLICKHOUSE_URL)
    .option('--database <name>', 'database', process.env.CLICKHOUSE_DATABASE ?? 'phi_audit')
    .action(async (options: { clickhouse?: string; database: string }) => {
      if (!options.clickhouse) throw new Error('--clickhouse <url> or CLICKHOUSE_URL is required');
      const store = createClickHouseLedgerStore({ url: options.clickhouse, database: options.database });
      try {
        await store.migrate();
        process.stderr.write(`schema of database ${options.database} is up to date\n`);
      } finally {
        await store.close();
      }
    });
}
