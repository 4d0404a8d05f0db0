import canonicalize from 'canonicalize';
import { LedgerError } from './errors.js';

/**
 * RFC 8785 (JCS) canonical JSON of `value`: object keys sorted by UTF-16 code units,
 * no whitespace, ECMAScript number serialisation, minimal string escaping.
 * Throws LEDGER_INVALID_INPUT for values JSON cannot represent exactly
 * (undefined, NaN, ±Infinity, BigInt, lone surrogates, cycles).
 */
export function canonicalJson(value: unknown): string {
  let out: string | undefined;
  try {
    out = canonicalize(value);
  } catch (cause) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `value cannot be canonicalised: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (out === undefined) {
    throw new LedgerError('LEDGER_INVALID_INPUT', `value of type ${typeof value} has no JSON representation`);
  }
  return out;
}
