/**
 * Loading a log's Merkle tile state when a writer (cluster or embedded) starts writing it.
 */
import type { LedgerStore, TileBuilder } from '@phi-audit/ledger';

/**
 * A TileBuilder for `origin` at `size` records (the log's head). When the stored tiles lag the
 * records (ClickHouse: the writer died between the records insert and the tiles insert), the
 * missing leaves are read back with `scan(origin, { fromIndex })` from the start of the partial
 * level-0 tile at the coverage, re-hashed into tiles and stored with `putTiles` before
 * returning. Throws CHECKPOINT_TILES_UNRECOVERABLE when the stored rows do not allow it (gaps,
 * duplicates: the log itself is damaged; `phi-audit verify` names how).
 */
export async function loadLogTiles(
  store: Pick<LedgerStore, 'readTiles' | 'tileCoverage' | 'putTiles' | 'scan'>,
  origin: string,
  size: number,
): Promise<TileBuilder> {
  void store;
  void origin;
  void size;
  throw new Error('not implemented');
}
