/**
 * Loading a log's Merkle tile state when a writer (cluster or embedded) starts writing it.
 */
import {
  createTileBuilder,
  isHashHex,
  isLedgerError,
  rightEdgeTiles,
  TILE_WIDTH,
  type LedgerStore,
  type LogTile,
  type TileBuilder,
} from '@phi-audit/ledger';
import { CheckpointError } from './errors.js';

type TileStore = Pick<LedgerStore, 'readTiles' | 'tileCoverage' | 'putTiles' | 'scan'>;

/** Leaves re-hashed between two putTiles calls while repairing: bounds memory on a long rebuild. */
const REPAIR_FLUSH_LEAVES = 64 * TILE_WIDTH;

/** A builder continuing at `size` from the stored right edge, or undefined when those tiles are not all there. */
async function builderAt(store: TileStore, origin: string, size: number): Promise<TileBuilder | undefined> {
  if (size === 0) return createTileBuilder({ size: 0, rightEdge: [] });
  const needed = rightEdgeTiles(size);
  const tiles = await store.readTiles(
    origin,
    needed.map(({ level, index }) => ({ level, index })),
  );
  try {
    return createTileBuilder({ size, rightEdge: tiles });
  } catch (err) {
    if (isLedgerError(err, 'LEDGER_INVALID_INPUT')) return undefined;
    throw err;
  }
}

function unrecoverable(origin: string, detail: string): CheckpointError {
  return new CheckpointError(
    'CHECKPOINT_TILES_UNRECOVERABLE',
    `the Merkle tiles of log ${origin} cannot be rebuilt: ${detail}; run phi-audit verify`,
  );
}

/**
 * A TileBuilder for `origin` at `size` records (the log's head). When the stored tiles lag the
 * records (ClickHouse: the writer died between the records insert and the tiles insert), the
 * missing leaves are read back with `scan(origin, { fromIndex })` from the start of the partial
 * level-0 tile at the coverage, re-hashed into tiles and stored with `putTiles` before
 * returning. Throws CHECKPOINT_TILES_UNRECOVERABLE when the stored rows do not allow it (gaps,
 * duplicates: the log itself is damaged; `phi-audit verify` names how).
 */
export async function loadLogTiles(store: TileStore, origin: string, size: number): Promise<TileBuilder> {
  const coverage = await store.tileCoverage(origin);
  if (coverage > size) {
    // Tiles are written after their records: tiles beyond the records mean records went missing
    // (or another writer is still appending; the caller's retry then sees the longer head).
    throw unrecoverable(origin, `the tiles cover ${coverage} leaves but the log has ${size} records`);
  }
  if (coverage === size) {
    const builder = await builderAt(store, origin, size);
    if (builder !== undefined) return builder;
  }
  // Rebuild from the start of the partial level-0 tile; if the tiles that edge needs are not all
  // stored either, from the beginning of the log.
  let from = Math.floor(coverage / TILE_WIDTH) * TILE_WIDTH;
  let builder = await builderAt(store, origin, from);
  if (builder === undefined) {
    from = 0;
    builder = createTileBuilder({ size: 0, rightEdge: [] });
  }
  const flush = async (b: TileBuilder): Promise<void> => {
    const changed = b.takeChanged();
    if (changed.length === 0) return;
    await store.putTiles(changed.map((t): LogTile => ({ ...t, origin })));
  };
  let expected = from;
  let sinceFlush = 0;
  for await (const row of store.scan(origin, { fromIndex: from })) {
    // The head may have moved on since it was read; tiles are built up to that head only.
    if (row.index >= size && row.index === expected) break;
    if (row.index < expected) throw unrecoverable(origin, `index ${row.index} is stored more than once`);
    if (row.index > expected) throw unrecoverable(origin, `index ${expected} is missing`);
    if (!isHashHex(row.leafHash)) throw unrecoverable(origin, `index ${row.index} has a malformed leaf hash`);
    builder.append([Buffer.from(row.leafHash, 'hex')]);
    expected += 1;
    sinceFlush += 1;
    if (sinceFlush >= REPAIR_FLUSH_LEAVES) {
      await flush(builder);
      sinceFlush = 0;
    }
  }
  if (expected < size) throw unrecoverable(origin, `index ${expected} is missing`);
  await flush(builder);
  return builder;
}
