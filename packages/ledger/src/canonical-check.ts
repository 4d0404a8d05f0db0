import canonicalize from 'canonicalize';

/**
 * Fast test of "is this JSON text already RFC 8785 canonical?" for the verifier's hot path.
 *
 * `canonicalize` (RFC 8785) serialises a plain object as its keys sorted by UTF-16 code units,
 * each value through JSON.stringify (primitives) or recursively (containers); JSON.stringify
 * does the same with the keys in property-enumeration order. For a value produced by
 * JSON.parse (plain objects and arrays, no toJSON, no undefined) the two outputs are identical
 * whenever every object's keys already enumerate in sorted order and every string is
 * well-formed (RFC 8785 rejects lone surrogates, JSON.stringify escapes them). In that common
 * case a JSON.stringify comparison decides; anything else (integer-like keys, which engines
 * enumerate first, unsorted keys, lone surrogates) takes the slow path through `canonicalize`.
 * The equivalence is property-tested against `canonicalize` in canonical-check.test.ts.
 */

/** True when every object inside `value` enumerates its keys in code-unit order and every string is well-formed. */
function plainSorted(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!plainSorted(item)) return false;
    return true;
  }
  const keys = Object.keys(value);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as string;
    // `<` on strings compares UTF-16 code units, the order RFC 8785 requires.
    if (k > 0 && !((keys[k - 1] as string) < key)) return false;
    if (!key.isWellFormed() || !plainSorted((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * True when `text` is exactly the RFC 8785 canonical serialisation of `parsed`, where
 * `parsed = JSON.parse(text)`. Equivalent to `canonicalize(parsed) === text` (false where
 * canonicalize throws), about three times cheaper for the usual canonical input.
 */
export function isCanonicalJsonText(text: string, parsed: unknown): boolean {
  if (plainSorted(parsed)) return JSON.stringify(parsed) === text;
  try {
    return canonicalize(parsed) === text;
  } catch {
    return false;
  }
}
