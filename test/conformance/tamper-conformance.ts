import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createChainBuilder,
  createTileBuilder,
  emptyHead,
  generateNoteKey,
  leafHashOf,
  nextChain,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  verifyLog,
  type CheckpointToVerify,
  type LedgerRecord,
  type LogTile,
  type NoteSigner,
  type StoredCheckpoint,
  type VerifyFailureKind,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import type { OpenedStore } from './conformance-harness.js';
import { buildRecords, collect, conformanceEvent, uniqueName } from './conformance-records.js';

const N = 10;

/** The writer's signing key for this suite, and an attacker's key nobody trusts. */
const signer = parseSignerKey(generateNoteKey('phi-audit.conformance').signerKey);
const verifiers = [parseVerifierKey(signer.verifierKey)];
const stranger = parseSignerKey(generateNoteKey('phi-audit.conformance').signerKey);

/** Records → their Merkle tiles (as the writer stores them) and signed checkpoints at `sizes`. */
function proofsOf(
  records: readonly LedgerRecord[],
  sizes: readonly number[],
  by: NoteSigner = signer,
): { tiles: LogTile[]; checkpoints: StoredCheckpoint[] } {
  const origin = records[0]!.origin;
  const builder = createTileBuilder({ size: 0, rightEdge: [] });
  const tiles = new Map<string, LogTile>();
  const checkpoints: StoredCheckpoint[] = [];
  for (const size of [...sizes].sort((a, b) => a - b)) {
    builder.append(records.slice(builder.size, size).map((r) => Buffer.from(r.leafHash, 'hex')));
    for (const t of builder.takeChanged()) tiles.set(`${t.level}/${t.index}`, { ...t, origin });
    const root = builder.root();
    checkpoints.push({
      origin,
      size,
      rootHex: root.toString('hex'),
      note: signCheckpoint({ origin, size, root }, by),
      signedAt: 1_714_573_800_000 + size,
    });
  }
  return { tiles: [...tiles.values()], checkpoints };
}

/**
 * Each attacker write (through the store's raw tamper hooks) must make verifyLog fail at
 * the first index that cannot be trusted, with the kind docs/ledger-format.md names.
 */
export function describeTamperConformance(current: () => OpenedStore): void {
  describe('tampering is visible at the right index', () => {
    async function seeded(): Promise<{ origin: string; tenant: string; records: LedgerRecord[] }> {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-tamper');
      const records = buildRecords(origin, N, (i) => conformanceEvent(i, tenant));
      await current().store.append(records);
      return { origin, tenant, records };
    }

    async function expectFailure(origin: string, index: number, kind: VerifyFailureKind): Promise<void> {
      const verdict = await verifyLog({ origin, records: current().store.scan(origin) });
      expect(verdict.ok).toBe(false);
      expect(verdict.failure).toMatchObject({ index, kind });
      // The verified prefix ends before the bad row; for a duplicate it includes the first copy.
      expect(verdict.head.size).toBe(kind === 'index_duplicate' ? index + 1 : index);
    }

    /** A forged copy of `genuine` about another patient, with the leaf hash recomputed. */
    function forge(genuine: LedgerRecord, changes: { index?: number; sourceOffset?: number; chain?: string }) {
      const event = JSON.parse(genuine.eventJson) as AccessEvent;
      const eventJson = canonicalJson({ ...event, eventId: `forged-${genuine.index}`, patient: { id: 'MRN-FORGED' } });
      const index = changes.index ?? genuine.index;
      const sourceOffset = changes.sourceOffset ?? genuine.sourceOffset;
      const eventId = `forged-${genuine.index}`;
      const leafHash = leafHashOf({ origin: genuine.origin, index, sourceOffset, eventId, eventJson });
      return { ...genuine, index, sourceOffset, eventId, eventJson, leafHash, chain: changes.chain ?? genuine.chain };
    }

    it('updated event content → leaf_hash_mismatch at that index', async () => {
      const { origin } = await seeded();
      await current().tamper.updateEventJson(origin, 6, (json) => {
        const forged = json.replace('"action":"view"', '"action":"print"');
        expect(forged).not.toBe(json);
        return forged;
      });
      expect((await collect(current().store.scan(origin)))[6]!.columnMismatch).toBe('action');
      await expectFailure(origin, 6, 'leaf_hash_mismatch');
    });

    it.each([
      ['user_id', 'someone-else', 'column_mismatch'],
      ['patient_id', 'patient-other', 'column_mismatch'],
      ['workstation', 'ws-forged', 'column_mismatch'],
      ['occurred_ms', 1_600_000_000_000, 'column_mismatch'],
      ['tenant', 'another-clinic', 'event_invalid'],
    ] as const)('updated query column %s → %s at that index', async (column, value, kind) => {
      const { origin } = await seeded();
      await current().tamper.updateColumn(origin, 4, column, value);
      const rows = await collect(current().store.scan(origin));
      if (kind === 'column_mismatch') {
        expect(rows.filter((r) => r.columnMismatch !== undefined).map((r) => [r.index, r.columnMismatch])).toEqual([
          [4, column],
        ]);
      }
      await expectFailure(origin, 4, kind);
    });

    it('deleted middle row → index_gap at that index; the head still ends at the last row', async () => {
      const { origin, records } = await seeded();
      await current().tamper.deleteRecord(origin, 3);
      const last = records[N - 1]!;
      expect(await current().store.head(origin)).toEqual({
        origin,
        size: N,
        chain: last.chain,
        lastSourceOffset: last.sourceOffset,
      });
      await expectFailure(origin, 3, 'index_gap');
    });

    it('duplicated row → index_duplicate at that index, and both copies are scanned', async () => {
      const { origin } = await seeded();
      await current().tamper.duplicateRecord(origin, 5);
      expect((await collect(current().store.scan(origin))).map((r) => r.index)).toEqual([
        0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9,
      ]);
      expect((await current().store.logs()).find((l) => l.origin === origin)?.records).toBe(N + 1);
      await expectFailure(origin, 5, 'index_duplicate');
    });

    it('two rows swapped → leaf_hash_mismatch at the first of them', async () => {
      const { origin, records } = await seeded();
      await current().tamper.swapRecords(origin, 2, 7);
      const rows = await collect(current().store.scan(origin));
      expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(rows[2]!.eventId).toBe(records[7]!.eventId);
      await expectFailure(origin, 2, 'leaf_hash_mismatch');
    });

    it('forged middle row with recomputed leaf hash and chain → index_duplicate at that index', async () => {
      const { origin, records } = await seeded();
      // The strongest forger without the later rows: leaf hash and chain both consistent with row 3.
      const forged = forge(records[4]!, { sourceOffset: records[4]!.sourceOffset });
      const chained = { ...forged, chain: nextChain(records[3]!.chain, forged.leafHash) };
      await current().tamper.insertRow(chained);
      expect((await collect(current().store.scan(origin))).filter((r) => r.index === 4)).toHaveLength(2);
      await expectFailure(origin, 4, 'index_duplicate');
    });

    it('forged tail row with a recomputed leaf hash → chain_mismatch at the new index', async () => {
      const { origin, records } = await seeded();
      const last = records[N - 1]!;
      const forged = forge(last, { index: N, sourceOffset: last.sourceOffset + 1 });
      await current().tamper.insertRow(forged);
      // The head follows the forged row: a writer resuming here would chain onto it; verify must not.
      expect(await current().store.head(origin)).toMatchObject({
        size: N + 1,
        lastSourceOffset: last.sourceOffset + 1,
      });
      await expectFailure(origin, N, 'chain_mismatch');
    });

    it('deleted tail row is NOT caught by the chain alone (signed checkpoints exist for this)', async () => {
      const { origin, records } = await seeded();
      await current().tamper.deleteRecord(origin, N - 1);
      expect(await current().store.head(origin)).toMatchObject({ size: N - 1, chain: records[N - 2]!.chain });
      expect(await verifyLog({ origin, records: current().store.scan(origin) })).toMatchObject({ ok: true });
    });
  });

  describe('signed checkpoints and Merkle tiles catch what the chain cannot', () => {
    const P = 300;
    const SIZES = [100, 200, P];

    async function seeded(): Promise<{ origin: string; tenant: string; records: LedgerRecord[]; exported: string }> {
      const tenant = uniqueName('t');
      const origin = uniqueName('phi-audit/conf-proofs');
      const records = buildRecords(origin, P, (i) => conformanceEvent(i, tenant));
      const { tiles, checkpoints } = proofsOf(records, SIZES);
      await current().store.append(records, tiles);
      for (const c of checkpoints) await current().store.putCheckpoint(c);
      // The latest checkpoint as it was exported outside the store.
      return { origin, tenant, records, exported: checkpoints.at(-1)!.note };
    }

    /** verifyLog over everything the store holds, plus checkpoints kept outside it. */
    async function verifyAll(origin: string, trusted: readonly string[] = []) {
      const store = current().store;
      const stored: CheckpointToVerify[] = (await store.checkpoints(origin)).map((c) => ({
        note: c.note,
        source: 'in the store',
        stored: { size: c.size, rootHex: c.rootHex },
      }));
      return verifyLog({
        origin,
        records: store.scan(origin),
        checkpoints: [...stored, ...trusted.map((note) => ({ note, source: '/export/log.checkpoint' }))],
        verifiers,
        readTiles: (ids) => store.readTiles(origin, ids),
      });
    }

    async function expectProofFailure(
      origin: string,
      index: number,
      kind: VerifyFailureKind,
      trusted: readonly string[] = [],
    ): Promise<void> {
      const verdict = await verifyAll(origin, trusted);
      expect(verdict.ok, JSON.stringify(verdict.failure)).toBe(false);
      expect(verdict.failure).toMatchObject({ index, kind });
    }

    it('a clean log matches every checkpoint, every tile and the consistency proofs between them', async () => {
      const { origin, exported } = await seeded();
      const verdict = await verifyAll(origin, [exported]);
      expect(verdict).toMatchObject({
        ok: true,
        records: P,
        checkpoints: { checked: 3, latestSize: P },
        tiles: { missing: 0, lagging: 0, proofs: 2, proofsUnavailable: 0 },
      });
    });

    it('deleted tail → log_truncated at the new size, against the stored checkpoint', async () => {
      const { origin } = await seeded();
      for (const i of [P - 1, P - 2, P - 3]) await current().tamper.deleteRecord(origin, i);
      await expectProofFailure(origin, P - 3, 'log_truncated');
    });

    it('deleted tail and deleted checkpoints → passes on the store alone, log_truncated against the exported checkpoint', async () => {
      const { origin, exported } = await seeded();
      for (const i of [P - 1, P - 2]) await current().tamper.deleteRecord(origin, i);
      await current().tamper.deleteCheckpoints(origin);
      expect(await current().store.checkpoints(origin)).toEqual([]);
      expect(await verifyAll(origin)).toMatchObject({ ok: true });
      await expectProofFailure(origin, P - 2, 'log_truncated', [exported]);
    });

    it('every row deleted → log_truncated at 0', async () => {
      const { origin } = await seeded();
      await current().tamper.deleteLog(origin);
      await expectProofFailure(origin, 0, 'log_truncated');
    });

    it('log rewritten consistently without the signing key (hashes, chains and tiles) → checkpoint_root_mismatch at 0', async () => {
      const { origin, records } = await seeded();
      const builder = createChainBuilder(emptyHead(origin));
      const forged = records.map((r) => {
        const event = JSON.parse(r.eventJson) as AccessEvent;
        return builder.append({ sourceOffset: r.sourceOffset, event: { ...event, patient: { id: 'MRN-REWRITTEN' } } });
      });
      await current().tamper.deleteLog(origin);
      await current().store.append(forged, proofsOf(forged, [P]).tiles);
      // Records, chain and tiles agree with each other: only the signed checkpoints betray the rewrite.
      expect(await verifyLog({ origin, records: current().store.scan(origin) })).toMatchObject({ ok: true });
      await expectProofFailure(origin, 0, 'checkpoint_root_mismatch');
    });

    it('altered checkpoint note → checkpoint_invalid at its size', async () => {
      const { origin } = await seeded();
      await current().tamper.updateCheckpointNote(origin, 200, (note) => {
        const forged = note.replace(
          /^(.*\n200\n)(.)/,
          (_m, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`,
        );
        expect(forged).not.toBe(note);
        return forged;
      });
      await expectProofFailure(origin, 200, 'checkpoint_invalid');
    });

    it('checkpoint signed by an unknown key → checkpoint_unknown_key at its size', async () => {
      const { origin, records } = await seeded();
      await current().store.putCheckpoint(proofsOf(records, [150], stranger).checkpoints[0]!);
      await expectProofFailure(origin, 150, 'checkpoint_unknown_key');
    });

    it('tampered Merkle tile → tile_mismatch at the first record the tile covers', async () => {
      const { origin } = await seeded();
      await current().tamper.updateTile(origin, 0, 1, (hashes) => {
        const forged = Buffer.from(hashes);
        forged[40] = forged[40]! ^ 0xff;
        return forged;
      });
      await expectProofFailure(origin, 256, 'tile_mismatch');
    });

    it('swapped rows are still named by the record checks, before any checkpoint', async () => {
      const { origin } = await seeded();
      await current().tamper.swapRecords(origin, 120, 180);
      await expectProofFailure(origin, 120, 'leaf_hash_mismatch');
    });
  });
}
