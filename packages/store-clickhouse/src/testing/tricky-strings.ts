import fc from 'fast-check';

/** Test-only: fragments that break naive SQL quoting. */
export const TRICKY_FRAGMENTS = [
  "'",
  "''",
  '\\',
  "\\'",
  '\\\\',
  '\0',
  '\n',
  '\r\n',
  '\t',
  '\b',
  '\f',
  '\x1b',
  '\x7f',
  '"',
  '`',
  '{x:String}',
  '{x:UInt8}',
  '?',
  '$1',
  '%s',
  '😀',
  '👩🏽‍⚕️',
  'é',
  '\u2028',
  '\ufeff',
  '\u0301',
  '\\x41',
  '\\N',
  "'; DROP TABLE access_log; --",
  '/* */',
  '\uffff',
  '\u{10ffff}',
] as const;

/** Well-formed strings mixing arbitrary code points with the tricky fragments. */
export const trickyString: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom(...TRICKY_FRAGMENTS)), { maxLength: 12 })
  .map((parts) => parts.join(''))
  .filter((s) => s.isWellFormed());
