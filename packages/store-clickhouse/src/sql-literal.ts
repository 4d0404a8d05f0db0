import { StoreError } from './errors.js';

/**
 * The only way values reach SQL text. ClickHouse 18.16 has no server-side query
 * parameters, so every value is rendered as a literal here and nowhere else.
 */

const HEX = '0123456789ABCDEF';

/**
 * Renders `value` as a ClickHouse string literal: single-quoted, with backslash and quote
 * escaped and every control character (C0 and DEL) written as `\xHH`, so the literal is
 * one line and means exactly `value` on 18.16 and current ClickHouse. Other characters
 * go through as UTF-8. `{x:String}` needs no escaping: parameters are never substituted
 * inside literals (and the store never sends parameters).
 * Throws STORE_INVALID_VALUE for a string with lone surrogates (not encodable as UTF-8).
 */
export function quoteString(value: string): string {
  if (typeof value !== 'string') {
    throw new StoreError('STORE_INVALID_VALUE', `expected a string for a SQL literal, got ${typeof value}`);
  }
  if (!value.isWellFormed()) {
    throw new StoreError(
      'STORE_INVALID_VALUE',
      'string contains an unpaired UTF-16 surrogate and cannot be stored faithfully',
    );
  }
  let out = "'";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x27) out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += `\\x${HEX[c >> 4]}${HEX[c & 15]}`;
    else out += value[i];
  }
  return `${out}'`;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** True when `name` is an identifier the store accepts: lowercase letters, digits, `_`, not starting with a digit, at most 63 characters. */
export function isIdentifier(name: unknown): boolean {
  return typeof name === 'string' && IDENTIFIER.test(name);
}

/**
 * Returns `name` as a SQL identifier after checking it against a strict pattern
 * (`[a-z_][a-z0-9_]{0,62}`): such names need no quoting on any ClickHouse version.
 * Throws STORE_INVALID_VALUE otherwise.
 */
export function quoteIdentifier(name: string): string {
  if (!isIdentifier(name)) {
    throw new StoreError(
      'STORE_INVALID_VALUE',
      `"${String(name).slice(0, 80)}" is not a valid identifier (a-z, 0-9, "_", not starting with a digit, at most 63 characters)`,
    );
  }
  return name;
}

/** Renders a non-negative safe integer as a SQL number. Throws STORE_INVALID_VALUE otherwise. */
export function quoteUInt(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StoreError(
      'STORE_INVALID_VALUE',
      `expected a non-negative safe integer, got ${String(value).slice(0, 40)}`,
    );
  }
  return String(value);
}
