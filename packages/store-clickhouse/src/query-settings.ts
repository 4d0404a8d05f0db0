/**
 * Per-query settings the store sends, chosen by server version: 18.16 rejects unknown
 * settings, and current ClickHouse has defaults that would break the guarantees.
 */

/** A ClickHouse setting value as sent in the URL. */
export type SettingValue = string | number;

/**
 * Largest batch append() accepts. Together with max_insert_block_size (and no partition
 * key) this keeps one append one block, one part, one commit.
 */
export const MAX_APPEND_ROWS = 100_000;
/** Largest JSONEachRow payload append() accepts: far below min_insert_block_size_bytes (256 MiB). */
export const MAX_APPEND_BYTES = 64 * 1024 * 1024;

function majorMinor(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/**
 * Settings for append()'s INSERT on a server of `version` (e.g. "18.16.1", "25.8.2.29").
 * - max_insert_block_size ≥ MAX_APPEND_ROWS everywhere: the parser must not cut the batch
 *   into blocks (each block is its own part and commit).
 * - input_format_parallel_parsing = 0 (20.x+): parallel parsing cuts input into ~10 MiB
 *   chunks that can become separate blocks.
 * - async_insert = 0 (21.11+; some builds default it on): a buffered insert is not the
 *   synchronous, one-part commit the writer's offset commit relies on.
 */
export function insertSettingsFor(version: string): Record<string, SettingValue> {
  const [major, minor] = majorMinor(version);
  const settings: Record<string, SettingValue> = { max_insert_block_size: 1_048_449 };
  if (major >= 20) settings.input_format_parallel_parsing = 0;
  if (major > 21 || (major === 21 && minor >= 11)) settings.async_insert = 0;
  return settings;
}

/**
 * Settings for scan(): sorting a whole log by idx must not need the whole log in memory,
 * so the server spills the sort to disk past this many bytes (exists on every version).
 */
export const SCAN_SETTINGS: Readonly<Record<string, SettingValue>> = {
  max_bytes_before_external_sort: 128 * 1024 * 1024,
};

/**
 * Settings for every SELECT: 64-bit integers as JSON strings (the default, made explicit)
 * so no index, offset or timestamp loses precision in JSON.parse.
 */
export const READ_SETTINGS: Readonly<Record<string, SettingValue>> = {
  output_format_json_quote_64bit_integers: 1,
};

/** max_query_size's default on every version: the parser refuses longer SELECT texts. */
const DEFAULT_MAX_QUERY_SIZE = 262_144;

/**
 * Settings for a lookup SELECT of `queryBytes` bytes (readTiles, recordsAt, recordsByEventId):
 * a list of up to MAX_LOOKUP_KEYS literals can pass the 256 KiB max_query_size default (ten
 * thousand long, escaped event ids), so the limit is raised to what this text needs.
 */
export function lookupSettingsFor(queryBytes: number): Record<string, SettingValue> {
  // The margin covers what the client adds (`\nFORMAT JSONEachRow`): the parser counts it too.
  return { ...READ_SETTINGS, max_query_size: Math.max(DEFAULT_MAX_QUERY_SIZE, queryBytes + 1024) };
}
