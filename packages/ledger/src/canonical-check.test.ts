import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCanonicalJsonText } from './canonical-check.js';

/** The definition the fast check must agree with. */
function reference(text: string): boolean {
  try {
    return canonicalize(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyUnit = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 3 }),
  loneSurrogate,
  fc.constantFrom('1', '10', '9', '\u0080', '"', '\\'),
);
const key = fc.string({ unit: anyUnit, maxLength: 4 });
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: anyUnit, maxLength: 4 }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  ),
})).node;

/** Texts of all kinds: canonical, JSON.stringify order, pretty-printed, with exotic number spellings. */
const jsonText = fc.oneof(
  value.map((v) => {
    try {
      return canonicalize(v) ?? 'null';
    } catch {
      return JSON.stringify(v) ?? 'null';
    }
  }),
  value.map((v) => JSON.stringify(v) ?? 'null'),
  value.map((v) => JSON.stringify(v, null, 1) ?? 'null'),
  fc.constantFrom(
    '1.0',
    '1e400',
    '-0',
    '{"a":1,"a":2}',
    '{"10":1,"9":2}',
    '{"9":2,"10":1}',
    '"\\ud800"',
    '{"b":1,"a":2}',
    '"\\u00e9"',
    '"é"',
  ),
);

describe('isCanonicalJsonText', () => {
  it('agrees with canonicalize(JSON.parse(text)) === text for any JSON text', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        expect(isCanonicalJsonText(text, JSON.parse(text))).toBe(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('handles the cases where JSON.stringify and RFC 8785 part ways', () => {
    expect(isCanonicalJsonText('{"10":1,"9":2}', JSON.parse('{"10":1,"9":2}'))).toBe(true);
    expect(isCanonicalJsonText('{"9":2,"10":1}', JSON.parse('{"9":2,"10":1}'))).toBe(false);
    expect(isCanonicalJsonText('"\\ud800"', JSON.parse('"\\ud800"'))).toBe(false);
    expect(isCanonicalJsonText('{"a":1,"a":2}', JSON.parse('{"a":1,"a":2}'))).toBe(false);
    expect(isCanonicalJsonText('{"a":1}', JSON.parse('{"a":1}'))).toBe(true);
  });
});
