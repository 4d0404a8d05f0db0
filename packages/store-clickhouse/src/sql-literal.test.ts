import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIdentifier, quoteIdentifier, quoteString, quoteUInt } from './sql-literal.js';
import { trickyString } from './testing/tricky-strings.js';

describe('quoteString', () => {
  it('escapes quote and backslash and writes control characters as \\xHH', () => {
    expect(quoteString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(quoteString('\0\n\x7f')).toBe("'\\x00\\x0A\\x7F'");
    expect(quoteString('{x:String} 😀')).toBe("'{x:String} 😀'");
    expect(quoteString('')).toBe("''");
  });

  it('always yields one line with no unescaped quote inside', () => {
    fc.assert(
      fc.property(trickyString, (s) => {
        const q = quoteString(s);
        expect(q.startsWith("'") && q.endsWith("'")).toBe(true);
        expect(/[\0-\x1f\x7f]/.test(q)).toBe(false);
        // Remove escape pairs: no bare quote or backslash may remain in the body.
        expect(q.slice(1, -1).replace(/\\./g, '')).not.toMatch(/['\\]/);
      }),
    );
  });

  it('refuses lone surrogates and non-strings', () => {
    expect(() => quoteString('a\ud800')).toThrow(expect.objectContaining({ code: 'STORE_INVALID_VALUE' }));
    expect(() => quoteString(5 as unknown as string)).toThrow(expect.objectContaining({ code: 'STORE_INVALID_VALUE' }));
  });
});

describe('identifiers and numbers', () => {
  it('accepts plain lowercase identifiers only', () => {
    expect(quoteIdentifier('phi_audit')).toBe('phi_audit');
    expect(isIdentifier('_t1')).toBe(true);
    for (const bad of ['', '1db', 'Phi', 'a-b', 'a b', 'a;drop', 'a`', 'x'.repeat(64), 'db.t']) {
      expect(isIdentifier(bad), bad).toBe(false);
      expect(() => quoteIdentifier(bad)).toThrow(expect.objectContaining({ code: 'STORE_INVALID_VALUE' }));
    }
  });

  it('renders only non-negative safe integers', () => {
    expect(quoteUInt(0)).toBe('0');
    expect(quoteUInt(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) {
      expect(() => quoteUInt(bad)).toThrow(expect.objectContaining({ code: 'STORE_INVALID_VALUE' }));
    }
  });
});
