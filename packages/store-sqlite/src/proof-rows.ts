import { isHashHex, TILE_WIDTH, type LogTile, type StoredCheckpoint, type TileId } from '@phi-audit/ledger';
import { StoreError } from './errors.js';

/**
 * The mapping between the proof-storage values (Merkle tiles, signed checkpoints, lookup keys)
 * and their SQLite rows and parameters, with the checks that come first. The store does not
 * interpret hashes or notes: it keeps them faithfully and refuses values it could not keep
 * faithfully. Pure. Messages name the offending argument, never its contents.
 */

/** The most keys (tile ids, indexes, event ids) one lookup may ask for: a bound on one call's work and memory. */
export const MAX_LOOKUP_KEYS = 10_000;

const HASH_BYTES = 32;

function invalid(message: string): StoreError {
  return new StoreError('STORE_INVALID_VALUE', message);
}

/** Throws STORE_INVALID_VALUE unless `value` is a well-formed (no lone surrogate) string, non-empty when asked. */
export function assertText(
  what: string,
  value: unknown,
  options: { nonEmpty?: boolean } = {},
): asserts value is string {
  if (typeof value !== 'string' || !value.isWellFormed() || (options.nonEmpty === true && value.length === 0)) {
    throw invalid(`${what} must be a well-formed${options.nonEmpty === true ? ', non-empty' : ''} string`);
  }
}

/** Throws STORE_INVALID_VALUE unless `value` is a non-negative safe integer. */
export function assertCount(what: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative safe integer`);
  }
}

/** Throws STORE_INVALID_VALUE unless `keys` is an array of at most MAX_LOOKUP_KEYS entries. */
export function assertLookupSize(what: string, keys: unknown): asserts keys is readonly unknown[] {
  if (!Array.isArray(keys)) throw invalid(`${what} must be an array`);
  if (keys.length > MAX_LOOKUP_KEYS) throw invalid(`at most ${MAX_LOOKUP_KEYS} ${what} per lookup`);
}

/** Positional parameters of UPSERT_TILE: log, level, tile_index, width, hashes. */
export type TileParams = [string, number, number, number, Buffer];

/**
 * The UPSERT_TILE parameters of a tile. Throws STORE_INVALID_VALUE for an origin that is not a
 * well-formed non-empty string, a level or index that is not a non-negative safe integer, or
 * hashes that are not 1…256 whole 32-byte hashes.
 */
export function tileParams(tile: LogTile): TileParams {
  if (typeof tile !== 'object' || tile === null) throw invalid('a tile must be an object');
  assertText('tile origin', tile.origin, { nonEmpty: true });
  assertCount('tile level', tile.level);
  assertCount('tile index', tile.index);
  const hashes: unknown = tile.hashes;
  if (!(hashes instanceof Uint8Array)) throw invalid('tile hashes must be a Buffer');
  const width = hashes.length / HASH_BYTES;
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw invalid(`tile hashes must be 1 to ${TILE_WIDTH} hashes of ${HASH_BYTES} bytes`);
  }
  // Copied: the caller may reuse its buffer, and the driver binds Buffers only.
  return [tile.origin, tile.level, tile.index, width, Buffer.from(hashes)];
}

/** Distinct tile ids, checked (non-negative safe integers, at most MAX_LOOKUP_KEYS). */
export function distinctTileIds(ids: readonly TileId[]): TileId[] {
  assertLookupSize('tile ids', ids);
  const seen = new Map<string, TileId>();
  for (const id of ids) {
    if (typeof id !== 'object' || id === null) throw invalid('a tile id must be an object');
    assertCount('tile level', id.level);
    assertCount('tile index', id.index);
    seen.set(`${id.level}/${id.index}`, { level: id.level, index: id.index });
  }
  return [...seen.values()];
}

/** A `merkle_tiles` row as SELECT_TILE reads it. */
export interface TileRow {
  level: number;
  tile_index: number;
  hashes: Buffer;
}

export function tileFromRow(origin: string, row: TileRow): LogTile {
  return { origin, level: row.level, index: row.tile_index, hashes: row.hashes };
}

/** A `checkpoints` row; also INSERT_CHECKPOINT's named parameters. */
export interface CheckpointRow {
  log: string;
  size: number;
  root: string;
  note: string;
  signed_ms: number;
}

/**
 * The `checkpoints` row of a signed checkpoint. Throws STORE_INVALID_VALUE for an origin or
 * note that is not a well-formed non-empty string, a size or signedAt that is not a
 * non-negative safe integer, or a root that is not 64 lowercase hex digits. The note is kept
 * as given, not parsed: verification opens it against trusted keys.
 */
export function checkpointRow(checkpoint: StoredCheckpoint): CheckpointRow {
  if (typeof checkpoint !== 'object' || checkpoint === null) throw invalid('a checkpoint must be an object');
  assertText('checkpoint origin', checkpoint.origin, { nonEmpty: true });
  assertCount('checkpoint size', checkpoint.size);
  if (typeof checkpoint.rootHex !== 'string' || !isHashHex(checkpoint.rootHex)) {
    throw invalid('checkpoint rootHex must be 64 lowercase hex digits');
  }
  assertText('checkpoint note', checkpoint.note, { nonEmpty: true });
  assertCount('checkpoint signedAt', checkpoint.signedAt);
  return {
    log: checkpoint.origin,
    size: checkpoint.size,
    root: checkpoint.rootHex,
    note: checkpoint.note,
    signed_ms: checkpoint.signedAt,
  };
}

/** A stored checkpoint as read: values passed through as stored (verification judges them). */
export function checkpointFromRow(row: CheckpointRow): StoredCheckpoint {
  return { origin: row.log, size: row.size, rootHex: row.root, note: row.note, signedAt: row.signed_ms };
}

/** Distinct record indexes, ascending, checked (non-negative safe integers, at most MAX_LOOKUP_KEYS). */
export function distinctIndexes(indexes: readonly number[]): number[] {
  assertLookupSize('indexes', indexes);
  for (const index of indexes) assertCount('index', index);
  return [...new Set(indexes)].sort((a, b) => a - b);
}

/** Distinct event ids, checked (well-formed strings, at most MAX_LOOKUP_KEYS). */
export function distinctEventIds(eventIds: readonly string[]): string[] {
  assertLookupSize('event ids', eventIds);
  for (const eventId of eventIds) assertText('eventId', eventId);
  return [...new Set(eventIds)];
}

/** Byte order of the UTF-8 encodings (SQLite's BINARY collation, and ClickHouse's), so both stores sort alike. */
export function compareUtf8(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
