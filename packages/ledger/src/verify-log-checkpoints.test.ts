import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { createChainBuilder } from './chain-builder.js';
import { emptyHead, GENESIS_CHAIN, nextChain } from './chain.js';
import { signCheckpoint } from './checkpoint.js';
import { leafHashOf } from './leaf.js';
import { rootOfLeafHashes } from './merkle.js';
import { sampleEvent } from './sample-event.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey, type NoteSigner } from './signed-note.js';
import { createTileBuilder, type Tile, type TileId } from './tiles.js';
import type { LedgerRecord, StoredRecord } from './types.js';
import type { CheckpointToVerify } from './verify-checkpoints.js';
import { verifyLog, type LogVerification, type VerifyFailureKind } from './verify-log.js';

const ORIGIN = 'phi-audit/access-events/7';
const keys = generateNoteKey('phi-audit.test');
const signer = parseSignerKey(keys.signerKey);
const verifier = parseVerifierKey(keys.verifierKey);
const stranger = parseSignerKey(generateNoteKey('phi-audit.test').signerKey);

function cleanLog(n: number): LedgerRecord[] {
  const builder = createChainBuilder(emptyHead(ORIGIN));
  return Array.from({ length: n }, (_, i) => builder.append({ sourceOffset: 10 + i, event: sampleEvent(i) }));
}

const leafBytes = (records: readonly LedgerRecord[]) => records.map((r) => Buffer.from(r.leafHash, 'hex'));

/** The checkpoint the writer would have signed over the first `size` records. */
function checkpointOf(
  records: readonly LedgerRecord[],
  size: number,
  by: NoteSigner = signer,
  source = 'the store',
): CheckpointToVerify {
  const root = rootOfLeafHashes(leafBytes(records.slice(0, size)));
  return {
    note: signCheckpoint({ origin: ORIGIN, size, root }, by),
    source,
    stored: { size, rootHex: root.toString('hex') },
  };
}

/** What an attacker without the signing key can do: recompute every hash from index `from` on. */
function rewriteFrom(records: readonly LedgerRecord[], from: number): StoredRecord[] {
  let chain = from === 0 ? GENESIS_CHAIN : records[from - 1]!.chain;
  return records.map((r, i) => {
    if (i < from) return r;
    const event = JSON.parse(r.eventJson) as ReturnType<typeof sampleEvent>;
    const eventJson = canonicalJson({ ...event, patient: { id: 'MRN-REWRITTEN' } });
    const leafHash = leafHashOf({ ...r, eventJson });
    chain = nextChain(chain, leafHash);
    return { ...r, eventJson, leafHash, chain };
  });
}

/** Tiles as the writer stores them for `records`, keyed level/index. */
function tilesOf(records: readonly LedgerRecord[]): Map<string, Tile> {
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  const tiles = new Map<string, Tile>();
  for (let i = 0; i < records.length; i += 100) {
    builder.append(leafBytes(records.slice(i, i + 100)));
    for (const t of builder.takeChanged()) tiles.set(`${t.level}/${t.index}`, t);
  }
  return tiles;
}

function readerOf(tiles: Map<string, Tile>, calls?: TileId[][]) {
  return (ids: readonly TileId[]) => {
    calls?.push([...ids]);
    return Promise.resolve(ids.flatMap((id) => tiles.get(`${id.level}/${id.index}`) ?? []));
  };
}

function expectFailure(v: LogVerification, index: number, kind: VerifyFailureKind, message?: RegExp): void {
  expect(v.ok, JSON.stringify(v.failure)).toBe(false);
  expect(v.failure).toMatchObject({ index, kind });
  if (message !== undefined) expect(v.failure?.message).toMatch(message);
}

describe('verifyLog against signed checkpoints', () => {
  const log = cleanLog(60);

  it('accepts a clean log and counts the checkpoints that matched (duplicates once)', async () => {
    const cps = [checkpointOf(log, 50), checkpointOf(log, 10), checkpointOf(log, 0), checkpointOf(log, 60)];
    const v = await verifyLog({ origin: ORIGIN, records: log, checkpoints: [...cps, cps[0]!], verifiers: [verifier] });
    expect(v).toMatchObject({ ok: true, records: 60, checkpoints: { checked: 4, latestSize: 60 } });
    expect(await verifyLog({ origin: ORIGIN, records: log, checkpoints: [], verifiers: [verifier] })).toMatchObject({
      ok: true,
      checkpoints: { checked: 0 },
    });
  });

  it('deleted tail → log_truncated at the log size, naming the missing records and the checkpoint', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: log.slice(0, 45),
      checkpoints: [checkpointOf(log, 20), checkpointOf(log, 60, signer, '/audit/cp-60.checkpoint')],
      verifiers: [verifier],
    });
    expectFailure(
      v,
      45,
      'log_truncated',
      /^records 45…59 are missing: checkpoint \/audit\/cp-60\.checkpoint says the log has 60 records/,
    );
    expect(v.checkpoints).toEqual({ checked: 1, latestSize: 20 });
  });

  it('every row deleted → log_truncated at 0', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: [],
      checkpoints: [checkpointOf(log, 60)],
      verifiers: [verifier],
    });
    expectFailure(v, 0, 'log_truncated', /records 0…59 are missing/);
  });

  it('log rewritten consistently from index 30 → checkpoint_root_mismatch at the last checkpoint that matched', async () => {
    const forged = rewriteFrom(log, 30);
    // The forgery is internally consistent: without checkpoints it verifies.
    expect(await verifyLog({ origin: ORIGIN, records: forged })).toMatchObject({ ok: true });
    const v = await verifyLog({
      origin: ORIGIN,
      records: forged,
      checkpoints: [checkpointOf(log, 20), checkpointOf(log, 50), checkpointOf(log, 60)],
      verifiers: [verifier],
    });
    expectFailure(v, 20, 'checkpoint_root_mismatch', /^records 20…49 were changed, removed or reordered/);
  });

  it('whole log rewritten → checkpoint_root_mismatch at 0', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: rewriteFrom(log, 0),
      checkpoints: [checkpointOf(log, 60)],
      verifiers: [verifier],
    });
    expectFailure(v, 0, 'checkpoint_root_mismatch', /records 0…59/);
  });

  it('checkpoint signed by an unknown key → checkpoint_unknown_key at its size', async () => {
    const v = await verifyLog({
      origin: ORIGIN,
      records: log,
      checkpoints: [checkpointOf(log, 20), checkpointOf(log, 40, stranger)],
      verifiers: [verifier],
    });
    expectFailure(v, 40, 'checkpoint_unknown_key', /not signed by any trusted verifier key/);
  });

  it('altered note text → checkpoint_invalid; malformed note → checkpoint_invalid at 0', async () => {
    const good = checkpointOf(log, 40);
    const altered = { ...good, note: good.note.replace('\n40\n', '\n30\n'), stored: { ...good.stored!, size: 30 } };
    expect(altered.note).not.toBe(good.note);
    const v = await verifyLog({ origin: ORIGIN, records: log, checkpoints: [altered], verifiers: [verifier] });
    expectFailure(v, 30, 'checkpoint_invalid', /signature does not verify/);
    const garbage = { note: 'not a checkpoint', source: 'the store' };
    const w = await verifyLog({ origin: ORIGIN, records: log, checkpoints: [garbage], verifiers: [verifier] });
    expectFailure(w, 0, 'checkpoint_invalid', /malformed/);
  });

  it('stored size or root column that disagrees with the note → checkpoint_invalid', async () => {
    const good = checkpointOf(log, 40);
    const v = await verifyLog({
      origin: ORIGIN,
      records: log,
      checkpoints: [{ ...good, stored: { size: 40, rootHex: 'ab'.repeat(32) } }],
      verifiers: [verifier],
    });
    expectFailure(v, 40, 'checkpoint_invalid', /stored size or root column disagrees/);
  });

  it('checkpoint of another log → checkpoint_origin', async () => {
    const root = rootOfLeafHashes(leafBytes(log.slice(0, 10)));
    const note = signCheckpoint({ origin: 'phi-audit/access-events/8', size: 10, root }, signer);
    const v = await verifyLog({
      origin: ORIGIN,
      records: log,
      checkpoints: [{ note, source: 'x' }],
      verifiers: [verifier],
    });
    expectFailure(v, 10, 'checkpoint_origin', /access-events\/8/);
  });

  it('without verifiers every checkpoint is unknown', async () => {
    const v = await verifyLog({ origin: ORIGIN, records: log, checkpoints: [checkpointOf(log, 5)] });
    expectFailure(v, 5, 'checkpoint_unknown_key');
  });

  it('reports the lowest index: a bad record before a bad checkpoint, a bad checkpoint before a bad record', async () => {
    const updated = log.map((r, i) => (i === 12 ? { ...r, sourceOffset: r.sourceOffset + 1000 } : r));
    const v = await verifyLog({
      origin: ORIGIN,
      records: updated,
      checkpoints: [checkpointOf(log, 30, stranger)],
      verifiers: [verifier],
    });
    expectFailure(v, 12, 'leaf_hash_mismatch');
    const w = await verifyLog({
      origin: ORIGIN,
      records: updated,
      checkpoints: [checkpointOf(log, 8, stranger)],
      verifiers: [verifier],
    });
    expectFailure(w, 8, 'checkpoint_unknown_key');
  });
});

describe('verifyLog against stored Merkle tiles', () => {
  const log = cleanLog(1_100);
  const tiles = tilesOf(log);
  const cps = [checkpointOf(log, 300), checkpointOf(log, 700), checkpointOf(log, 1_100)];

  it('compares every tile and verifies the consistency proofs between checkpoints', async () => {
    const calls: TileId[][] = [];
    const v = await verifyLog({
      origin: ORIGIN,
      records: log,
      checkpoints: cps,
      verifiers: [verifier],
      readTiles: readerOf(tiles, calls),
    });
    expect(v).toMatchObject({ ok: true, checkpoints: { checked: 3, latestSize: 1_100 } });
    expect(v.tiles).toMatchObject({ missing: 0, lagging: 0, proofs: 2, proofsUnavailable: 0 });
    // Full level-0 tiles 0…3 once each, the partial level-0 and level-1 tiles at every checkpoint and at the end.
    expect(v.tiles!.compared).toBeGreaterThanOrEqual(5);
    expect(calls.flat()).toContainEqual({ level: 1, index: 0 });
  });

  it('a tampered tile → tile_mismatch at the first record the tile covers', async () => {
    const bad = new Map(tiles);
    const original = tiles.get('0/2')!;
    const hashes = Buffer.from(original.hashes);
    hashes[5 * 32] = (hashes[5 * 32]! + 1) % 256;
    bad.set('0/2', { ...original, hashes });
    const v = await verifyLog({ origin: ORIGIN, records: log, readTiles: readerOf(bad) });
    expectFailure(v, 512, 'tile_mismatch', /level 0, index 2 \(records 512…767\)/);
    // Found even when the scan stops at a later bad record.
    const later = log.map((r, i) => (i === 900 ? { ...r, chain: GENESIS_CHAIN } : r));
    expectFailure(await verifyLog({ origin: ORIGIN, records: later, readTiles: readerOf(bad) }), 512, 'tile_mismatch');
  });

  it('a tampered level-1 tile → tile_mismatch at 0', async () => {
    const bad = new Map(tiles);
    const original = tiles.get('1/0')!;
    bad.set('1/0', { ...original, hashes: Buffer.alloc(original.hashes.length, 7) });
    expectFailure(await verifyLog({ origin: ORIGIN, records: log, readTiles: readerOf(bad) }), 0, 'tile_mismatch');
  });

  it('missing tiles are counted, not a failure; proofs that need them are unavailable', async () => {
    const partial = new Map([...tiles].filter(([key]) => key !== '0/1' && key !== '1/0'));
    const v = await verifyLog({
      origin: ORIGIN,
      records: log,
      checkpoints: cps,
      verifiers: [verifier],
      readTiles: readerOf(partial),
    });
    expect(v.ok).toBe(true);
    expect(v.tiles!.missing).toBeGreaterThanOrEqual(2);
    expect(v.tiles!.proofsUnavailable).toBeGreaterThanOrEqual(1);
  });

  it('tiles wider than the records (tail deleted) are compared on their common prefix', async () => {
    const v = await verifyLog({ origin: ORIGIN, records: log.slice(0, 1_000), readTiles: readerOf(tiles) });
    expect(v).toMatchObject({ ok: true, tiles: { missing: 0 } });
  });

  it('a rewrite that also rebuilds the tiles is caught by the checkpoints alone', async () => {
    const forged = rewriteFrom(log, 0);
    const v = await verifyLog({
      origin: ORIGIN,
      records: forged,
      checkpoints: cps,
      verifiers: [verifier],
      readTiles: readerOf(tilesOf(forged)),
    });
    expectFailure(v, 0, 'checkpoint_root_mismatch');
  });
});
