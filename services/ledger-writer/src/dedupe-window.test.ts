import { describe, expect, it } from 'vitest';
import { DedupeWindow, keyDigest } from './dedupe-window.js';

describe('DedupeWindow', () => {
  it('remembers exactly the last N pushes (ring eviction in order)', () => {
    const w = new DedupeWindow(3);
    for (const d of ['a', 'b', 'c']) w.push(d);
    expect(['a', 'b', 'c'].map((d) => w.has(d))).toEqual([true, true, true]);
    w.push('d');
    expect(w.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((d) => w.has(d))).toBe(true);
    w.push('e');
    w.push('f');
    expect(['b', 'c'].some((d) => w.has(d))).toBe(false);
    expect(['d', 'e', 'f'].every((d) => w.has(d))).toBe(true);
    expect(w.size).toBe(3);
    // Wrap around the ring more than once.
    for (let i = 0; i < 10; i++) w.push(`x${i}`);
    expect(['x7', 'x8', 'x9'].every((d) => w.has(d))).toBe(true);
    expect(w.has('x6')).toBe(false);
    expect(w.size).toBe(3);
    expect(w.distinct).toBe(3);
  });

  it('counts repeated keys: a key stays until its last occurrence leaves the window', () => {
    const w = new DedupeWindow(3);
    w.push('k');
    w.push('k');
    w.push('m');
    expect(w.distinct).toBe(2);
    w.push('n'); // evicts the first k; the second is still inside
    expect(w.has('k')).toBe(true);
    w.push('o'); // evicts the second k
    expect(w.has('k')).toBe(false);
    expect(w.distinct).toBe(3);
    expect(['m', 'n', 'o'].every((d) => w.has(d))).toBe(true);
  });

  it('matches a brute-force "among the previous N" over a random sequence', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 40;
    const n = 17;
    const w = new DedupeWindow(n);
    const seen: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const d = `k${rnd()}`;
      expect(w.has(d)).toBe(seen.slice(-n).includes(d));
      w.push(d);
      seen.push(d);
      expect(w.distinct).toBe(new Set(seen.slice(-n)).size);
    }
  });

  it('refuses a capacity that is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new DedupeWindow(bad)).toThrow(RangeError);
  });
});

describe('keyDigest', () => {
  it('is 16 characters, deterministic, and separates the parts unambiguously', () => {
    const d = keyDigest('clinic-a', 'ehr', 'evt-1');
    expect(d).toHaveLength(16);
    expect(keyDigest('clinic-a', 'ehr', 'evt-1')).toBe(d);
    expect(Buffer.from(d, 'latin1')).toHaveLength(16);
    // Moving characters between parts must change the digest.
    const variants = [
      keyDigest('clinic-a', 'ehr', 'evt-1'),
      keyDigest('clinic-a', 'ehre', 'vt-1'),
      keyDigest('clinic-ae', 'hr', 'evt-1'),
      keyDigest('clinic-a', '', 'ehrevt-1'),
      keyDigest('clinic-b', 'ehr', 'evt-1'),
      keyDigest('clinic-a', 'lab', 'evt-1'),
      keyDigest('clinic-a', 'ehr', 'evt-2'),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('keeps lone surrogates apart from U+FFFD (no lossy UTF-8 step)', () => {
    expect(keyDigest('t', 's', 'a\ud800')).not.toBe(keyDigest('t', 's', 'a\ufffd'));
    expect(keyDigest('t', 's', 'a\ud800')).not.toBe(keyDigest('t', 's', 'a\udc00'));
  });
});
