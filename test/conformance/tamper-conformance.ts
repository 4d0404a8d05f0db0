import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  leafHashOf,
  nextChain,
  verifyLog,
  type LedgerRecord,
  type VerifyFailureKind,
} from '@phi-audit/ledger';
import type { AccessEvent } from '@phi-audit/schema';
import type { OpenedStore } from './conformance-harness.js';
import { buildRecords, collect, conformanceEvent, uniqueName } from './conformance-records.js';

const N = 10;

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
}
