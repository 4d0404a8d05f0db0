import { createChainBuilder } from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import { embeddedOrigin, type SqliteLedgerStore } from '@phi-audit/store-sqlite';

/**
 * Appends events to their tenant's embedded log in a real SQLite ledger, one append at a time, as
 * the embedded writer does (tests only: no tiles, no checkpoints). Usable as a console audit
 * trail's `publish`.
 */
export function createSqliteLedgerAppender(
  ledger: SqliteLedgerStore,
): (events: readonly AccessEvent[]) => Promise<void> {
  let nextOffset = 1;
  let appending: Promise<unknown> = Promise.resolve();
  return (events) => {
    const run = appending.then(async () => {
      for (const tenant of new Set(events.map((e) => e.tenant))) {
        const builder = createChainBuilder(await ledger.head(embeddedOrigin(tenant)));
        const mine = events.filter((e) => e.tenant === tenant);
        await ledger.append(mine.map((event) => builder.append({ sourceOffset: nextOffset++, event })));
      }
    });
    appending = run.catch(() => undefined);
    return run;
  };
}
