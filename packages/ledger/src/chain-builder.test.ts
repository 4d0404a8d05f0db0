import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '@phi-audit/schema';
import { canonicalJson } from './canonical-json.js';
import { createChainBuilder } from './chain-builder.js';
import { emptyHead, GENESIS_CHAIN, nextChain } from './chain.js';
import { isLedgerError, type LedgerErrorCode } from './errors.js';
import { leafHashOf } from './leaf.js';
import { sampleEvent } from './sample-event.js';

const ORIGIN = 'phi-audit/access-events/0';

function codeOf(fn: () => unknown): LedgerErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    return isLedgerError(err) ? err.code : undefined;
  }
  return undefined;
}

describe('createChainBuilder', () => {
  it('produces the worked example of docs/ledger-format.md', () => {
    const builder = createChainBuilder(emptyHead(ORIGIN));
    const event = {
      eventId: 'e1',
      tenant: 'clinic-a',
      occurredAt: 1714573800000,
      receivedAt: 1714573800500,
      source: { system: 'ehr' },
      actor: { userId: 'u1' },
      patient: { id: 'p1' },
      action: 'view',
      resource: { type: 'Patient' },
      outcome: 'success',
    } satisfies AccessEvent;
    expect(builder.append({ sourceOffset: 42, event })).toEqual({
      origin: ORIGIN,
      index: 0,
      sourceOffset: 42,
      eventId: 'e1',
      tenant: 'clinic-a',
      eventJson:
        '{"action":"view","actor":{"userId":"u1"},"eventId":"e1","occurredAt":1714573800000,"outcome":"success","patient":{"id":"p1"},"receivedAt":1714573800500,"resource":{"type":"Patient"},"source":{"system":"ehr"},"tenant":"clinic-a"}',
      leafHash: '00f1ecdbb566cb3a0a03b618bd6408f71f72487293b3b32de0579f63bd2222ef',
      chain: 'ebbfb6be1b0733da9933643ec1c31fc4c5cf25906fd4501b8901d34d4d2a4dc9',
    });
    expect(builder.head()).toEqual({
      origin: ORIGIN,
      size: 1,
      chain: 'ebbfb6be1b0733da9933643ec1c31fc4c5cf25906fd4501b8901d34d4d2a4dc9',
      lastSourceOffset: 42,
    });
  });

  it('numbers records contiguously and chains each to the previous one', () => {
    const builder = createChainBuilder(emptyHead(ORIGIN));
    let prev = GENESIS_CHAIN;
    for (let i = 0; i < 5; i++) {
      const event = sampleEvent(i);
      const r = builder.append({ sourceOffset: 10 + i * 3, event });
      expect(r.index).toBe(i);
      expect(r.eventJson).toBe(canonicalJson(event));
      expect(r.leafHash).toBe(
        leafHashOf({
          origin: ORIGIN,
          index: i,
          sourceOffset: 10 + i * 3,
          eventId: event.eventId,
          eventJson: r.eventJson,
        }),
      );
      expect(r.chain).toBe(nextChain(prev, r.leafHash));
      prev = r.chain;
    }
    expect(builder.head()).toEqual({ origin: ORIGIN, size: 5, chain: prev, lastSourceOffset: 22 });
  });

  it('resuming from a head gives the same records as one uninterrupted builder', () => {
    const one = createChainBuilder(emptyHead(ORIGIN));
    const all = [0, 1, 2, 3].map((i) => one.append({ sourceOffset: i, event: sampleEvent(i) }));
    const first = createChainBuilder(emptyHead(ORIGIN));
    first.append({ sourceOffset: 0, event: sampleEvent(0) });
    first.append({ sourceOffset: 1, event: sampleEvent(1) });
    const resumed = createChainBuilder(first.head());
    expect([
      resumed.append({ sourceOffset: 2, event: sampleEvent(2) }),
      resumed.append({ sourceOffset: 3, event: sampleEvent(3) }),
    ]).toEqual(all.slice(2));
  });

  it('rejects a source offset that does not move forward, without advancing', () => {
    const builder = createChainBuilder(emptyHead(ORIGIN));
    builder.append({ sourceOffset: 5, event: sampleEvent(0) });
    const before = builder.head();
    expect(codeOf(() => builder.append({ sourceOffset: 5, event: sampleEvent(1) }))).toBe('LEDGER_OFFSET_REGRESSION');
    expect(codeOf(() => builder.append({ sourceOffset: 4, event: sampleEvent(1) }))).toBe('LEDGER_OFFSET_REGRESSION');
    expect(codeOf(() => builder.append({ sourceOffset: -1, event: sampleEvent(1) }))).toBe('LEDGER_INVALID_INPUT');
    expect(codeOf(() => builder.append({ sourceOffset: 6.5, event: sampleEvent(1) }))).toBe('LEDGER_INVALID_INPUT');
    expect(builder.head()).toEqual(before);
    expect(builder.append({ sourceOffset: 6, event: sampleEvent(1) }).index).toBe(1);
  });

  it('rejects an invalid event naming the field but not its value', () => {
    const builder = createChainBuilder(emptyHead(ORIGIN));
    const bad = { ...sampleEvent(0), patient: { id: 'SMITH-JOHN-1950', ssn: '123-45-6789' } } as unknown as AccessEvent;
    let caught: unknown;
    try {
      builder.append({ sourceOffset: 0, event: bad });
    } catch (err) {
      caught = err;
    }
    expect(isLedgerError(caught, 'LEDGER_INVALID_EVENT')).toBe(true);
    expect((caught as Error).message).toContain('patient');
    expect((caught as Error).message).not.toContain('123-45-6789');
    expect((caught as Error).message).not.toContain('SMITH');
    expect(builder.head().size).toBe(0);
  });

  it.each([
    ['negative size', { ...emptyHead(ORIGIN), size: -1 }],
    ['uppercase chain', { origin: ORIGIN, size: 1, chain: 'A'.repeat(64), lastSourceOffset: 0 }],
    ['empty log with a chain', { origin: ORIGIN, size: 0, chain: 'a'.repeat(64), lastSourceOffset: -1 }],
    ['empty origin', emptyHead('')],
  ])('rejects a malformed head (%s)', (_what, head) => {
    expect(codeOf(() => createChainBuilder(head))).toBe('LEDGER_INVALID_HEAD');
  });
});
