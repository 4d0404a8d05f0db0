import { TILE_WIDTH, type LogTile, type StoredCheckpoint, type TileId } from '@phi-audit/ledger';
import { StoreError } from './errors.js';

/**
 * The mapping between Merkle tiles / signed checkpoints and their ClickHouse rows, with the
 * argument checks the store makes before any SQL is built. Tile hashes travel as lowercase
 * hex: String columns hold binary fine, JSON (the only insert format the store uses) does not.
 * Messages name positions and sizes, never values (an origin or event id is not PHI, but a
 * note or a tampered value could be anything).
 */

/** The most keys one lookup (readTiles, recordsAt, recordsByEventId) and the most tiles one putTiles may carry. */
export const MAX_LOOKUP_KEYS = 10_000;

/** Highest tile level the `level UInt8` column holds (a 2^53-leaf tree needs 7). */
const MAX_TILE_LEVEL = 255;

const HASH_HEX = /^[0-9a-f]{64}$/;
const TILES_HEX = /^(?:[0-9a-f]{64})+$/;

/** One `merkle_tiles` row as inserted (JSONEachRow). */
export interface MerkleTileRow {
  log: string;
  level: number;
  tile_index: number;
  width: number;
  hashes: string;
}

/** A row of selectTiles as read (64-bit integers quoted). */
export interface MerkleTileRowText {
  level: number | string;
  tile_index: string;
  widest_width: number | string;
  widest_hashes: string;
}

/** One `checkpoints` row, as inserted and as read (64-bit integers quoted when read). */
export interface CheckpointRow {
  log: string;
  size: number | string;
  root: string;
  note: string;
  signed_ms: number | string;
}

function invalid(message: string): StoreError {
  return new StoreError('STORE_INVALID_VALUE', message);
}

/** Throws STORE_INVALID_VALUE unless `value` is a well-formed (UTF-8 encodable) string, non-empty when asked. */
export function checkText(value: unknown, what: string, options: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string' || !value.isWellFormed()) throw invalid(`${what} must be a well-formed string`);
  if (options.nonEmpty === true && value === '') throw invalid(`${what} must not be empty`);
  return value;
}

/** Throws STORE_INVALID_VALUE unless `value` is a non-negative safe integer. */
export function checkUInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative safe integer`);
  }
  return value;
}

/** Throws STORE_INVALID_VALUE when a lookup asks for more than MAX_LOOKUP_KEYS keys. */
export function checkLookupSize(keys: readonly unknown[], what: string): void {
  if (!Array.isArray(keys)) throw invalid(`${what} must be an array`);
  if (keys.length > MAX_LOOKUP_KEYS) {
    throw invalid(`${keys.length} ${what} exceed the ${MAX_LOOKUP_KEYS} one lookup may ask for`);
  }
}

/** A checked tile id: level 0…255 (the column is UInt8), index a non-negative safe integer. */
export function checkTileId(id: TileId, position: number): TileId {
  const level = checkUInt(id?.level, `tile id ${position}: level`);
  if (level > MAX_TILE_LEVEL) throw invalid(`tile id ${position}: level must be at most ${MAX_TILE_LEVEL}`);
  return { level, index: checkUInt(id.index, `tile id ${position}: index`) };
}

/**
 * The `merkle_tiles` row of a tile. Throws STORE_INVALID_VALUE for a malformed origin, level
 * or index, or hashes that are not a Buffer of 1…256 whole 32-byte hashes.
 */
export function rowFromTile(tile: LogTile, position: number): MerkleTileRow {
  const log = checkText(tile?.origin, `tile ${position}: origin`, { nonEmpty: true });
  const { level, index } = checkTileId(tile, position);
  const hashes: unknown = tile.hashes;
  if (!Buffer.isBuffer(hashes) && !(hashes instanceof Uint8Array))
    throw invalid(`tile ${position}: hashes must be bytes`);
  const width = hashes.length / 32;
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw invalid(
      `tile ${position}: hashes must be 1 to ${TILE_WIDTH} whole 32-byte hashes, got ${hashes.length} bytes`,
    );
  }
  return { log, level, tile_index: index, width, hashes: Buffer.from(hashes).toString('hex') };
}

/**
 * The tile of a selectTiles row. A stored row whose hex is not `width` hashes of lowercase hex
 * was written by something other than this store: STORE_QUERY_FAILED naming the tile, rather
 * than a silently shortened tile (Buffer.from(hex) stops at the first bad character).
 */
export function tileFromRow(origin: string, row: MerkleTileRowText): LogTile {
  const level = Number(row.level);
  const index = Number(row.tile_index);
  const width = Number(row.widest_width);
  const hex = row.widest_hashes;
  if (!TILES_HEX.test(hex) || hex.length !== width * 64) {
    throw new StoreError(
      'STORE_QUERY_FAILED',
      `the stored Merkle tile at level ${level}, index ${index} of log ${JSON.stringify(origin)} is malformed ` +
        `(not ${width} hashes of lowercase hex): run phi-audit verify`,
    );
  }
  return { origin, level, index, hashes: Buffer.from(hex, 'hex') };
}

/**
 * Per tile id, the widest of `tiles` (the first among equally wide ones): what one call must
 * store so that, as with one upsert per tile, the widest wins whatever the order.
 */
export function widestPerTile(rows: readonly MerkleTileRow[]): MerkleTileRow[] {
  const byKey = new Map<string, MerkleTileRow>();
  for (const row of rows) {
    const key = tileKey(row.log, row.level, row.tile_index);
    const known = byKey.get(key);
    if (known === undefined || row.width > known.width) byKey.set(key, row);
  }
  return [...byKey.values()];
}

/** A map key for one tile of one log (origins may contain anything, hence JSON). */
export function tileKey(origin: string, level: number, index: number): string {
  return JSON.stringify([origin, level, index]);
}

/**
 * The `checkpoints` row of a checkpoint. Throws STORE_INVALID_VALUE for an empty or malformed
 * origin, a size or signing time that is not a non-negative safe integer, a root that is not
 * 64 lowercase hex digits, or a note that is not a well-formed, non-empty string. The note's
 * signature is not checked here: verification checks it against the trusted keys.
 */
export function rowFromCheckpoint(checkpoint: StoredCheckpoint): CheckpointRow {
  const log = checkText(checkpoint?.origin, 'checkpoint origin', { nonEmpty: true });
  const size = checkUInt(checkpoint.size, 'checkpoint size');
  if (typeof checkpoint.rootHex !== 'string' || !HASH_HEX.test(checkpoint.rootHex)) {
    throw invalid('checkpoint rootHex must be 64 lowercase hex digits');
  }
  const note = checkText(checkpoint.note, 'checkpoint note', { nonEmpty: true });
  const signed_ms = checkUInt(checkpoint.signedAt, 'checkpoint signedAt');
  return { log, size, root: checkpoint.rootHex, note, signed_ms };
}

/** The checkpoint of a stored row, as stored. */
export function checkpointFromRow(row: CheckpointRow): StoredCheckpoint {
  return {
    origin: row.log,
    size: Number(row.size),
    rootHex: row.root,
    note: row.note,
    signedAt: Number(row.signed_ms),
  };
}
