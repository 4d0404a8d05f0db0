import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { createChainBuilder } from './chain-builder.js';
import { emptyHead, GENESIS_CHAIN, nextChain } from './chain.js';
import { leafHashOf } from './leaf.js';
import { sampleEvent } from './sample-event.js';
import type { LedgerRecord, StoredRecord } from './types.js';
import { verifyLog, type LogVerification, type VerifyFailureKind } from './verify-log.js';

const ORIGIN = 'phi-audit/access-events/3';

function cleanLog(n: number): LedgerRecord[] {
  const builder = createChainBuilder(emptyHead(ORIGIN));
  return Array.from({ length: n }, (_, i) => builder.append({ sourceOffset: 100 + 2 * i, event: sampleEvent(i) }));
}

/** What an attacker who knows the format (but not a signing key) can do: recompute every hash. */
function rehash(records: StoredRecord[]): StoredRecord[] {
  let chain = GENESIS_CHAIN;
  return records.map((r) => {
    const leafHash = leafHashOf(r);
    chain = nextChain(chain, leafHash);
    return { ...r, leafHash, chain };
  });
}

async function* asAsync<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}

function expectFailure(v: LogVerification, index: number, kind: VerifyFailureKind): void {
  expect(v.ok).toBe(false);
  expect(v.failure?.kind).toBe(kind);
  expect(v.failure?.index).toBe(index);
  // The message names the index in plain language.
  expect(v.failure?.message).toMatch(new RegExp(`\\b${index}\\b`));
}

/** A different patient, as an UPDATE of one field would produce. */
function withPatient(r: StoredRecord, patientId: string): StoredRecord {
  const event = JSON.parse(r.eventJson) as ReturnType<typeof sampleEvent>;
  return { ...r, eventJson: canonicalJson({ ...event, patient: { id: patientId } }) };
}

describe('verifyLog on clean logs', () => {
  it('accepts a clean log from a sync or an async iterable and returns its head', async () => {
    const log = cleanLog(50);
    const last = log[49] as LedgerRecord;
    const expected = {
      origin: ORIGIN,
      records: 50,
      ok: true,
      head: { origin: ORIGIN, size: 50, chain: last.chain, lastSourceOffset: last.sourceOffset },
    };
    expect(await verifyLog({ origin: ORIGIN, records: log })).toEqual(expected);
    expect(await verifyLog({ origin: ORIGIN, records: asAsync(log) })).toEqual(expected);
  });

  it('accepts an empty log', async () => {
    expect(await verifyLog({ origin: ORIGIN, records: [] })).toEqual({
      origin: ORIGIN,
      records: 0,
      ok: true,
      head: emptyHead(ORIGIN),
    });
  });

  it('reports progress, ending with the verified count', async () => {
    const seen: number[] = [];
    await verifyLog({ origin: ORIGIN, records: cleanLog(2100), onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([1024, 2048, 2100]);
  });

  it('propagates an error thrown by the record source', async () => {
    async function* broken(): AsyncIterable<StoredRecord> {
      yield* cleanLog(2);
      throw new Error('connection reset');
    }
    await expect(verifyLog({ origin: ORIGIN, records: broken() })).rejects.toThrow('connection reset');
  });
});

describe('verifyLog tamper matrix', () => {
  const log = cleanLog(10);
  const at = (i: number): StoredRecord => log[i] as StoredRecord;

  it('update one field of one row → leaf_hash_mismatch at that row', async () => {
    const tampered = log.map((r, i) => (i === 4 ? withPatient(r, 'p-other') : r));
    const v = await verifyLog({ origin: ORIGIN, records: tampered });
    expectFailure(v, 4, 'leaf_hash_mismatch');
    expect(v.records).toBe(5);
    expect(v.head).toEqual({ origin: ORIGIN, size: 4, chain: at(3).chain, lastSourceOffset: at(3).sourceOffset });
    // The message never echoes event contents.
    expect(v.failure?.message).not.toContain('p-other');
  });

  it.each(['sourceOffset', 'eventId', 'leafHash'] as const)('update of %s → leaf_hash_mismatch', async (field) => {
    const patch = { sourceOffset: at(6).sourceOffset + 1, eventId: 'evt-x', leafHash: at(5).leafHash }[field];
    const tampered = log.map((r, i) => (i === 6 ? { ...r, [field]: patch } : r));
    expectFailure(await verifyLog({ origin: ORIGIN, records: tampered }), 6, 'leaf_hash_mismatch');
  });

  it('update with every hash recomputed → chain_mismatch at the next row', async () => {
    // The attacker recomputes row 4's leaf hash and chain but cannot fix row 5 without rewriting the rest.
    const forged = rehash([...log.slice(0, 4), withPatient(at(4), 'p-other')]);
    const v = await verifyLog({ origin: ORIGIN, records: [...forged, ...log.slice(5)] });
    expectFailure(v, 5, 'chain_mismatch');
  });

  it('delete a middle row → index_gap naming the missing index', async () => {
    const v = await verifyLog({ origin: ORIGIN, records: log.filter((r) => r.index !== 5) });
    expectFailure(v, 5, 'index_gap');
    expect(v.failure?.message).toContain('record 5 is missing');
  });

  it('delete several rows → index_gap naming the range', async () => {
    const v = await verifyLog({ origin: ORIGIN, records: log.filter((r) => r.index < 3 || r.index > 6) });
    expectFailure(v, 3, 'index_gap');
    expect(v.failure?.message).toContain('records 3 to 6 are missing');
  });

  it('delete the first row → index_gap at 0', async () => {
    expectFailure(await verifyLog({ origin: ORIGIN, records: log.slice(1) }), 0, 'index_gap');
  });

  it('delete a middle row and renumber (with hashes recomputed) → chain_mismatch at the first renumbered row', async () => {
    const renumbered = log.filter((r) => r.index !== 5).map((r) => (r.index > 5 ? { ...r, index: r.index - 1 } : r));
    const leafFixed = renumbered.map((r) => ({ ...r, leafHash: leafHashOf(r) }));
    expectFailure(await verifyLog({ origin: ORIGIN, records: renumbered }), 5, 'leaf_hash_mismatch');
    expectFailure(await verifyLog({ origin: ORIGIN, records: leafFixed }), 5, 'chain_mismatch');
  });

  it('swap two rows (contents exchanged, indexes kept) → leaf_hash_mismatch at the lower index', async () => {
    const swapped = log.map((r, i) => (i === 3 ? { ...at(7), index: 3 } : i === 7 ? { ...at(3), index: 7 } : r));
    expectFailure(await verifyLog({ origin: ORIGIN, records: swapped }), 3, 'leaf_hash_mismatch');
  });

  it('swap two rows with leaf hashes recomputed → chain_mismatch at the lower index', async () => {
    const swapped = log.map((r, i) => (i === 3 ? { ...at(7), index: 3 } : i === 7 ? { ...at(3), index: 7 } : r));
    const leafFixed = swapped.map((r) => ({ ...r, leafHash: leafHashOf(r) }));
    expectFailure(await verifyLog({ origin: ORIGIN, records: leafFixed }), 3, 'chain_mismatch');
  });

  it('insert a forged row at the tail with a right leaf hash but a wrong chain → chain_mismatch at the tail', async () => {
    const forged = createChainBuilder(emptyHead(ORIGIN)).append({ sourceOffset: 1000, event: sampleEvent(99) });
    const row = { ...forged, index: 10, leafHash: leafHashOf({ ...forged, index: 10 }) };
    expectFailure(await verifyLog({ origin: ORIGIN, records: [...log, row] }), 10, 'chain_mismatch');
  });

  it('insert a forged row next to a genuine one (same index) → index_duplicate or chain_mismatch at that index', async () => {
    const forged = withPatient(at(4), 'p-forged');
    const forgedRow = { ...forged, leafHash: leafHashOf(forged) };
    expectFailure(
      await verifyLog({ origin: ORIGIN, records: [...log.slice(0, 5), forgedRow, ...log.slice(5)] }),
      4,
      'index_duplicate',
    );
    expectFailure(
      await verifyLog({ origin: ORIGIN, records: [...log.slice(0, 4), forgedRow, ...log.slice(4)] }),
      4,
      'chain_mismatch',
    );
  });

  it('duplicate a row → index_duplicate at that index', async () => {
    const v = await verifyLog({ origin: ORIGIN, records: [...log.slice(0, 7), at(6), ...log.slice(7)] });
    expectFailure(v, 6, 'index_duplicate');
    expect(v.head.size).toBe(7);
  });

  it('a row that reappears out of order → index_order', async () => {
    expectFailure(await verifyLog({ origin: ORIGIN, records: [...log.slice(0, 6), at(2)] }), 2, 'index_order');
    const noIndex = log.map((r, i) => (i === 3 ? { ...r, index: -1 } : r));
    expectFailure(await verifyLog({ origin: ORIGIN, records: noIndex }), 3, 'index_order');
  });

  it('a row of another log → origin_mismatch', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: log.map((r, i) => (i === 2 ? { ...r, origin: 'phi-audit/access-events/4' } : r)),
    });
    expectFailure(v, 2, 'origin_mismatch');
  });

  it('tenant column changed → event_invalid (tenant is not framed in the leaf outside eventJson)', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: log.map((r, i) => (i === 8 ? { ...r, tenant: 'clinic-b' } : r)),
    });
    expectFailure(v, 8, 'event_invalid');
    expect(v.failure?.message).toContain('tenant');
  });

  it.each([
    ['not JSON', (r: StoredRecord) => ({ ...r, eventJson: r.eventJson.slice(0, -1) }), 'not valid JSON'],
    [
      'not canonical',
      (r: StoredRecord) => ({ ...r, eventJson: JSON.stringify(JSON.parse(r.eventJson), null, 1) }),
      'canonical',
    ],
    [
      'not an AccessEvent',
      (r: StoredRecord) => ({ ...r, eventJson: canonicalJson({ ...(JSON.parse(r.eventJson) as object), extra: 1 }) }),
      'AccessEvent',
    ],
    ['eventId disagreeing', (r: StoredRecord) => ({ ...r, eventId: 'evt-other' }), 'eventId'],
  ])('event %s (hashes recomputed) → event_invalid', async (_what, mutate, words) => {
    const v = await verifyLog({ origin: ORIGIN, records: rehash(log.map((r, i) => (i === 5 ? mutate(r) : r))) });
    expectFailure(v, 5, 'event_invalid');
    expect(v.failure?.message).toContain(words);
  });

  it('a lone surrogate (which cannot be framed faithfully) → event_invalid', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: log.map((r, i) => (i === 5 ? { ...r, eventId: 'evt-\ud800' } : r)),
    });
    expectFailure(v, 5, 'event_invalid');
    expect(v.failure?.message).toContain('Unicode');
  });

  it('store reports a query column that disagrees with the event → column_mismatch', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: log.map((r, i) => (i === 1 ? { ...r, columnMismatch: 'patient_id' } : r)),
    });
    expectFailure(v, 1, 'column_mismatch');
    expect(v.failure?.message).toContain('patient_id');
  });

  it('source offsets that do not increase (hashes consistent) → source_offset_order', async () => {
    const records = rehash(log.map((r, i) => (i === 7 ? { ...r, sourceOffset: at(6).sourceOffset } : r)));
    const v = await verifyLog({ origin: ORIGIN, records });
    expectFailure(v, 7, 'source_offset_order');
  });

  it('reports only the first of several problems', async () => {
    const tampered = log
      .map((r, i) => (i === 2 ? { ...r, columnMismatch: 'user_id' } : i === 6 ? withPatient(r, 'x') : r))
      .filter((r) => r.index !== 8);
    expectFailure(await verifyLog({ origin: ORIGIN, records: tampered }), 2, 'column_mismatch');
  });
});
