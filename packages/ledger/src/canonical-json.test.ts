import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { isLedgerError } from './errors.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units at every level (RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse re-orders the integer-like key "1"; check the text order instead.
    const text = canonicalJson(input);
    const order = ['\\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      text.indexOf(`"${k}"`),
    );
    expect(order.every((pos, i) => pos >= 0 && (i === 0 || pos > (order[i - 1] as number)))).toBe(true);
    expect(keys).toHaveLength(7);
    expect(canonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] })).toBe('{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}');
  });

  it('matches the RFC 8785 §3.2.2 sample (numbers, strings, literals)', () => {
    const input = {
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
      string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    };
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('serialises numbers the ECMAScript way', () => {
    expect(canonicalJson([0, -0, 1e21, 1e-7, 0.1, 2 ** 53 - 1, -1.5])).toBe(
      '[0,0,1e+21,1e-7,0.1,9007199254740991,-1.5]',
    );
  });

  it('keeps non-ASCII characters as they are and escapes only what JSON requires', () => {
    expect(canonicalJson({ name: 'Zoë 😀 \u2028 \t' })).toBe('{"name":"Zoë 😀 \u2028 \\t"}');
  });

  it('drops undefined members like JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['undefined', undefined],
    ['a BigInt', 1n],
    ['a lone surrogate', { s: '\ud800' }],
    ['a lone surrogate key', { '\udfff': 1 }],
  ])('rejects %s with LEDGER_INVALID_INPUT', (_what, value) => {
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (err) {
      caught = err;
    }
    expect(isLedgerError(caught, 'LEDGER_INVALID_INPUT')).toBe(true);
  });
});
