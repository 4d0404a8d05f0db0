import { describe, expect, it } from 'vitest';
import { emptyHead } from './chain.js';
import { createChainBuilder } from './chain-builder.js';
import { signCheckpoint } from './checkpoint.js';
import { canonicalJson } from './canonical-json.js';
import { buildEvidenceBundle, verifyEvidenceBundle, type EvidenceRecordInput } from './evidence-bundle.js';
import { sampleEvent } from './sample-event.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey, signNote, type NoteSigner } from './signed-note.js';
import { createTileBuilder, createTileNodeReader, type Tile } from './tiles.js';
import type { LedgerRecord } from './types.js';

/** An in-memory log: records, its tiles (widest version kept, as the stores do), its root. */
function memoryLog(origin: string, count: number, firstEvent: number) {
  const chain = createChainBuilder(emptyHead(origin));
  const tiles = createTileBuilder({ size: 0, rightEdge: [] });
  const stored = new Map<string, Tile>();
  const records: LedgerRecord[] = [];
  for (let i = 0; i < count; i++) {
    const record = chain.append({
      sourceOffset: 100 + i * 3,
      event: sampleEvent(firstEvent + i, { action: i % 2 === 0 ? 'view' : 'print' }),
    });
    records.push(record);
    tiles.append([Buffer.from(record.leafHash, 'hex')]);
    for (const t of tiles.takeChanged()) {
      const key = `${t.level}/${t.index}`;
      const known = stored.get(key);
      if (known === undefined || t.hashes.length > known.hashes.length) stored.set(key, t);
    }
  }
  const readTiles = async (ids: readonly { level: number; index: number }[]): Promise<Tile[]> =>
    ids.flatMap((id) => stored.get(`${id.level}/${id.index}`) ?? []);
  return { origin, records, root: tiles.root(), size: count, readTiles, stored };
}

const key = generateNoteKey('phi-audit-test-log');
const signer = parseSignerKey(key.signerKey);
const verifier = parseVerifierKey(key.verifierKey);
const other = generateNoteKey('phi-audit-other');
const otherSigner = parseSignerKey(other.signerKey);
const otherVerifier = parseVerifierKey(other.verifierKey);

const logA = memoryLog('phi-audit/access-events/0', 5, 0);
const logB = memoryLog('phi-audit/access-events/1', 3, 50);
const logs = [logA, logB];

function checkpointOf(log: ReturnType<typeof memoryLog>, by: NoteSigner = signer, size = log.size) {
  if (size !== log.size) throw new Error('test logs are checkpointed at their full size');
  return { origin: log.origin, note: signCheckpoint({ origin: log.origin, size, root: log.root }, by) };
}

const readNodes = (origin: string, size: number) =>
  createTileNodeReader(logs.find((l) => l.origin === origin)!.readTiles, size);

const chosen: EvidenceRecordInput[] = [logB.records[2]!, logA.records[0]!, logA.records[3]!, logB.records[0]!];

async function validBundle(): Promise<string> {
  return buildEvidenceBundle({
    records: chosen,
    checkpoints: [checkpointOf(logA), checkpointOf(logB)],
    trustedKeys: [verifier],
    readNodes,
  });
}

/** The bundle's content re-serialised canonically after `edit` (to test checks beyond the canonical form). */
function edited(text: string, edit: (content: Record<string, unknown>) => void): string {
  const content = JSON.parse(text) as Record<string, unknown>;
  edit(content);
  return `${canonicalJson(content)}\n`;
}

describe('evidence bundles', () => {
  it('builds a canonical bundle that verifies, with and without the trusted key', async () => {
    const text = await validBundle();
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toBe(`${canonicalJson(JSON.parse(text))}\n`);
    const content = JSON.parse(text) as { keys: string[]; checkpoints: unknown[]; records: { origin: string }[] };
    expect(content.keys).toEqual([verifier.key]);
    expect(content.checkpoints).toHaveLength(2);

    const trusted = verifyEvidenceBundle(text, { trustedKeys: [verifier] });
    expect(trusted.problems).toEqual([]);
    expect(trusted.ok).toBe(true);
    expect(trusted.checkedAgainstTrustedKeys).toBe(true);
    expect(trusted.records.map((r) => [r.origin, r.index, r.eventId, r.action])).toEqual([
      [logA.origin, 0, 'evt-0', 'view'],
      [logA.origin, 3, 'evt-3', 'print'],
      [logB.origin, 0, 'evt-50', 'view'],
      [logB.origin, 2, 'evt-52', 'view'],
    ]);
    expect(trusted.records[0]!.occurredAt).toBe(sampleEvent(0).occurredAt);
    expect(trusted.checkpoints.map((c) => [c.origin, c.size, c.trusted])).toEqual([
      [logA.origin, 5, true],
      [logB.origin, 3, true],
    ]);
    expect(trusted.keys).toEqual([
      { label: expect.stringMatching(/^phi-audit-test-log\+[0-9a-f]{8}$/), key: verifier.key, trusted: true },
    ]);

    const selfConsistent = verifyEvidenceBundle(Buffer.from(text, 'utf8'));
    expect(selfConsistent.ok).toBe(true);
    expect(selfConsistent.checkedAgainstTrustedKeys).toBe(false);
    expect(selfConsistent.keys[0]!.trusted).toBe(false);
  });

  it('fails when any single byte is flipped (XOR 0x01 and XOR 0x20), with and without the trusted key', async () => {
    const bytes = Buffer.from(await validBundle(), 'utf8');
    const survivors: string[] = [];
    for (const mask of [0x01, 0x20]) {
      for (let i = 0; i < bytes.length; i++) {
        const copy = Buffer.from(bytes);
        copy[i] = copy[i]! ^ mask;
        if (verifyEvidenceBundle(copy).ok) survivors.push(`byte ${i} ^ 0x${mask.toString(16)} (self-consistency)`);
        if (verifyEvidenceBundle(copy, { trustedKeys: [verifier] }).ok) {
          survivors.push(`byte ${i} ^ 0x${mask.toString(16)} (trusted key)`);
        }
      }
    }
    expect(survivors).toEqual([]);
  }, 120_000);

  it('fails when a byte is removed or added, or the file is re-formatted', async () => {
    const text = await validBundle();
    expect(verifyEvidenceBundle(text.slice(0, -1)).ok).toBe(false);
    expect(verifyEvidenceBundle(`${text}\n`).ok).toBe(false);
    expect(verifyEvidenceBundle(`\ufeff${text}`).ok).toBe(false);
    expect(verifyEvidenceBundle(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])).ok).toBe(false);
    expect(verifyEvidenceBundle(`${JSON.stringify(JSON.parse(text), null, 2)}\n`).problems[0]).toMatchObject({
      subject: 'bundle',
      message: expect.stringContaining('canonical'),
    });
    expect(verifyEvidenceBundle(Buffer.from([0xff, 0x0a])).problems[0]!.message).toContain('UTF-8');
  });

  it('rejects a bundle signed by another key when a trusted key is given, naming the checkpoint', async () => {
    const forged = await buildEvidenceBundle({
      records: chosen,
      checkpoints: [checkpointOf(logA, otherSigner), checkpointOf(logB, otherSigner)],
      trustedKeys: [otherVerifier],
      readNodes,
    });
    expect(verifyEvidenceBundle(forged).ok).toBe(true);
    const result = verifyEvidenceBundle(forged, { trustedKeys: [verifier] });
    expect(result.ok).toBe(false);
    expect(result.records).toEqual([]);
    expect(result.problems[0]!.subject).toBe(`checkpoint 0 (log ${logA.origin}, size 5)`);
    expect(result.problems[0]!.message).toContain('not signed by any trusted key');
  });

  it('rejects unverified bytes that are still canonical: unknown fields, spare keys, spare checkpoints, duplicates, disorder', async () => {
    const text = await validBundle();
    const cases: [string, string][] = [
      ['unknown field', edited(text, (c) => void (c.createdAt = '2026-01-01'))],
      ['unknown record field', edited(text, (c) => void ((c.records as Record<string, unknown>[])[0]!.note = 'x'))],
      ['spare key', edited(text, (c) => void (c.keys = [verifier.key, otherVerifier.key].sort()))],
      ['duplicate key', edited(text, (c) => void (c.keys = [verifier.key, verifier.key]))],
      [
        'unused checkpoint',
        edited(
          text,
          (c) => void (c.records = (c.records as { origin: string }[]).filter((r) => r.origin === logA.origin)),
        ),
      ],
      [
        'duplicate checkpoint',
        edited(text, (c) => void (c.checkpoints = [...(c.checkpoints as unknown[]), (c.checkpoints as unknown[])[1]])),
      ],
      [
        'duplicate record',
        edited(text, (c) => void (c.records = [(c.records as unknown[])[0], ...(c.records as unknown[])])),
      ],
      ['records out of order', edited(text, (c) => void (c.records = [...(c.records as unknown[])].reverse()))],
      [
        'checkpoints out of order',
        edited(text, (c) => void (c.checkpoints = [...(c.checkpoints as unknown[])].reverse())),
      ],
      ['no records', edited(text, (c) => void (c.records = []))],
      [
        'uppercase proof hex',
        edited(text, (c) => {
          const r = (c.records as { proof: string[] }[])[0]!;
          r.proof[0] = r.proof[0]!.toUpperCase();
        }),
      ],
      [
        'proofs swapped',
        edited(text, (c) => {
          const [a, b] = c.records as { proof: string[] }[];
          [a!.proof, b!.proof] = [b!.proof, a!.proof];
        }),
      ],
      [
        'record moved to the other log',
        edited(text, (c) => void ((c.records as { origin: string }[])[0]!.origin = logB.origin)),
      ],
      [
        'non-canonical eventJson',
        edited(text, (c) => {
          const r = (c.records as { eventJson: string }[])[0]!;
          r.eventJson = JSON.stringify(JSON.parse(r.eventJson), null, 1);
        }),
      ],
      ['format', edited(text, (c) => void (c.format = 'phi-audit/evidence/v2'))],
    ];
    for (const [name, variant] of cases) {
      expect(variant, name).not.toBe(text);
      expect(verifyEvidenceBundle(variant).ok, name).toBe(false);
    }
  });

  it('rejects a checkpoint carrying a signature no bundled key verifies; the builder drops such signatures', async () => {
    const body = signCheckpoint({ origin: logA.origin, size: logA.size, root: logA.root }, signer);
    const text = body.slice(0, body.lastIndexOf('\n\n') + 1);
    const cosigned = signNote(text, [signer, otherSigner]);
    const built = await buildEvidenceBundle({
      records: [logA.records[1]!],
      checkpoints: [{ origin: logA.origin, note: cosigned }],
      trustedKeys: [verifier],
      readNodes,
    });
    expect(built).not.toContain(otherVerifier.name);
    expect(verifyEvidenceBundle(built, { trustedKeys: [verifier] }).ok).toBe(true);

    const smuggled = edited(built, (c) => void ((c.checkpoints as { note: string }[])[0]!.note = cosigned));
    const result = verifyEvidenceBundle(smuggled);
    expect(result.ok).toBe(false);
    expect(result.problems[0]!.message).toContain('no bundled key verifies');
  });

  describe('the builder refuses', () => {
    const build = (over: Partial<Parameters<typeof buildEvidenceBundle>[0]>) =>
      buildEvidenceBundle({
        records: chosen,
        checkpoints: [checkpointOf(logA), checkpointOf(logB)],
        trustedKeys: [verifier],
        readNodes,
        ...over,
      });

    it('a record its log has not checkpointed yet', async () => {
      const smaller = memoryLog(logA.origin, 3, 0);
      await expect(
        build({
          records: [logA.records[4]!],
          checkpoints: [
            { origin: logA.origin, note: signCheckpoint({ origin: logA.origin, size: 3, root: smaller.root }, signer) },
          ],
        }),
      ).rejects.toMatchObject({
        code: 'EVIDENCE_NOT_CHECKPOINTED',
        message: expect.stringContaining('covers 3 records'),
      });
      await expect(build({ checkpoints: [checkpointOf(logA)] })).rejects.toMatchObject({
        code: 'EVIDENCE_NOT_CHECKPOINTED',
      });
    });

    it('a checkpoint that does not verify with the trusted keys, or is forged', async () => {
      await expect(build({ trustedKeys: [otherVerifier] })).rejects.toMatchObject({
        code: 'EVIDENCE_CHECKPOINT_UNTRUSTED',
      });
      const forged = signCheckpoint({ origin: logA.origin, size: 5, root: logB.root }, signer);
      const tampered = forged.replace(/\n(\d+)\n/, '\n4\n');
      await expect(
        build({ checkpoints: [{ origin: logA.origin, note: tampered }, checkpointOf(logB)] }),
      ).rejects.toMatchObject({ code: 'EVIDENCE_CHECKPOINT_UNTRUSTED' });
      await expect(
        build({ checkpoints: [{ origin: logB.origin, note: checkpointOf(logA).note }] }),
      ).rejects.toMatchObject({
        code: 'EVIDENCE_CHECKPOINT_UNTRUSTED',
      });
      await expect(build({ trustedKeys: [] })).rejects.toMatchObject({ code: 'EVIDENCE_INPUT_INVALID' });
    });

    it('a record whose stored fields do not match its leaf hash, or two different rows at one index', async () => {
      const altered = { ...logA.records[0]!, sourceOffset: logA.records[0]!.sourceOffset + 1 };
      await expect(build({ records: [altered] })).rejects.toMatchObject({ code: 'EVIDENCE_RECORD_INVALID' });
      await expect(build({ records: [logA.records[0]!, altered] })).rejects.toMatchObject({
        code: 'EVIDENCE_RECORD_INVALID',
      });
      // Identical duplicate rows (as a store returns them) are collapsed.
      const text = await build({ records: [logA.records[0]!, { ...logA.records[0]! }] });
      expect(verifyEvidenceBundle(text).records).toHaveLength(1);
    });

    it('a checkpoint whose root the stored tiles do not lead to', async () => {
      const forged = signCheckpoint({ origin: logA.origin, size: 5, root: logB.root }, signer);
      await expect(
        build({ records: [logA.records[2]!], checkpoints: [{ origin: logA.origin, note: forged }] }),
      ).rejects.toMatchObject({ code: 'EVIDENCE_PROOF_FAILED' });
    });

    it('missing tiles', async () => {
      await expect(
        build({ readNodes: (_origin, size) => createTileNodeReader(async () => [], size) }),
      ).rejects.toMatchObject({
        code: 'EVIDENCE_PROOF_FAILED',
        message: expect.stringContaining('LEDGER_TILES_MISSING'),
      });
    });
  });
});
