import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayHaveStructureIssues, parseEvents, scanStructure } from './parse-events.js';

/** A JSON text built by hand so that it can repeat keys, which JSON.stringify never does. */
type Node =
  { kind: 'object'; entries: [string, Node][] } | { kind: 'array'; items: Node[] } | { kind: 'literal'; text: string };

const KEYS = ['a', 'b', 'eventId', 'a:b', 'x"y', 'back\\slash', '__proto__', 'constructor', 'prototype', ':', ''];
const LITERALS = [
  '1',
  '-0',
  '1.5e3',
  '1e400',
  '-1e400',
  '9007199254740991',
  '9007199254740993',
  '1e300',
  'true',
  'null',
  '"plain"',
  '"with: colon"',
  '"quote \\" and colon:"',
  '"ends in backslash \\\\"',
  '"\\\\\\":"',
  '"{\\"k\\":1}"',
];

const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...LITERALS).map((text): Node => ({ kind: 'literal', text })),
    fc.string().map((s): Node => ({ kind: 'literal', text: JSON.stringify(s) })),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 4 })), tie('node')), {
        maxLength: 5,
      })
      .map((entries): Node => ({ kind: 'object', entries })),
    fc.array(tie('node'), { maxLength: 4 }).map((items): Node => ({ kind: 'array', items })),
  ),
})).node;

function write(n: Node, space: string): string {
  switch (n.kind) {
    case 'literal':
      return n.text;
    case 'array':
      return `[${space}${n.items.map((i) => write(i, space)).join(`,${space}`)}]`;
    case 'object':
      return `{${n.entries.map(([k, v]) => `${JSON.stringify(k)}${space}:${space}${write(v, space)}`).join(',')}}`;
    default:
      return n satisfies never;
  }
}

describe('mayHaveStructureIssues (fast path of the duplicate-key / number / prototype-key scan)', () => {
  it('is true whenever the full jsonc-parser scan reports an issue', () => {
    fc.assert(
      fc.property(fc.array(node, { minLength: 1, maxLength: 4 }), fc.constantFrom('', ' ', '\n\t'), (events, space) => {
        const text = `[${events.map((e) => write(e, space)).join(',')}]`;
        const value: unknown = JSON.parse(text);
        const issues = scanStructure(text, (path) => (typeof path[0] === 'number' ? path[0] : undefined), 1);
        if (issues.length > 0) expect(mayHaveStructureIssues(text, value)).toBe(true);
        // And parseEvents reports exactly what the full scan reports.
        expect(parseEvents(text, 'json', 100).issues).toEqual(issues);
      }),
      { numRuns: 3000 },
    );
  });

  it('is false for JSON.stringify output without prototype keys or unsafe numbers (the fast path is taken)', () => {
    const safe = fc.jsonValue().filter((v) => {
      const text = JSON.stringify(v);
      return !/"(__proto__|constructor|prototype)":/.test(text);
    });
    fc.assert(
      fc.property(safe, (v) => {
        const text = JSON.stringify(v);
        const value: unknown = JSON.parse(text);
        const bad = scanStructure(text, () => 0, 0).length > 0;
        expect(mayHaveStructureIssues(text, value)).toBe(bad);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a duplicate key in one event of many', () => {
    const events = Array.from({ length: 500 }, (_, i) => `{"eventId":"e${i}","a":{"b":1,"c":"x:y"}}`);
    events[317] = '{"eventId":"e317","a":{"b":1,"b":2}}';
    const text = `[${events.join(',')}]`;
    expect(mayHaveStructureIssues(text, JSON.parse(text))).toBe(true);
    expect(parseEvents(text, 'json', 1000).issues).toEqual([
      { index: 317, path: 'a.b', message: 'duplicate key "b" at a.b; each key may appear once per object' },
    ]);
  });
});
