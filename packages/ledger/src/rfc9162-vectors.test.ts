import { fileURLToPath } from 'node:url';
// eslint-disable-next-line no-restricted-imports -- reading the shared test vectors is this test's only I/O
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMerkleAccumulator, rootOfLeafHashes } from './merkle.js';
import { verifyConsistency, verifyInclusion } from './proofs.js';
import { createTileBuilder } from './tiles.js';

// The RFC 9162 vectors written elsewhere (transparency-dev/merkle testdata, Apache-2.0; see the
// README and LICENSE there), vendored unchanged from the project's shared vectors so a clean clone
// tests against them. A missing directory fails the test rather than skipping it.
const VECTORS = process.env['RFC9162_VECTORS'] ?? fileURLToPath(new URL('../testdata/rfc9162', import.meta.url));

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? jsonFiles(join(dir, entry.name))
      : entry.name.endsWith('.json')
        ? [join(dir, entry.name)]
        : [],
  );
}

const b64 = (s: string | null | undefined): Buffer => Buffer.from(s ?? '', 'base64');
const b64List = (list: string[] | null | undefined): Buffer[] => (list ?? []).map(b64);

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const load = <T>(file: string): [string, T] => [relative(VECTORS, file), JSON.parse(readFileSync(file, 'utf8')) as T];

const inclusionCases = jsonFiles(join(VECTORS, 'inclusion')).map((f) => load<InclusionCase>(f));
const consistencyCases = jsonFiles(join(VECTORS, 'consistency')).map((f) => load<ConsistencyCase>(f));

describe('RFC 9162 vectors', () => {
  it('finds the vector files (including both wanted outcomes)', () => {
    expect(inclusionCases.length).toBeGreaterThan(50);
    expect(consistencyCases.length).toBeGreaterThan(50);
    expect(inclusionCases.some(([, c]) => !c.wantErr)).toBe(true);
    expect(consistencyCases.some(([, c]) => !c.wantErr)).toBe(true);
  });

  it.each(inclusionCases)('inclusion %s', (_name, c) => {
    const check = verifyInclusion({
      index: c.leafIdx,
      size: c.treeSize,
      leafHash: b64(c.leafHash),
      proof: b64List(c.proof),
      root: b64(c.root),
    });
    expect(check.ok).toBe(!c.wantErr);
    if (!check.ok) expect(check.reason).toMatch(/\w/);
  });

  it.each(consistencyCases)('consistency %s', (_name, c) => {
    const check = verifyConsistency({
      size1: c.size1,
      size2: c.size2,
      root1: b64(c.root1),
      root2: b64(c.root2),
      proof: b64List(c.proof),
    });
    expect(check.ok).toBe(!c.wantErr);
  });

  describe('tree-roots.json', () => {
    const data = JSON.parse(readFileSync(join(VECTORS, 'tree-roots.json'), 'utf8')) as {
      leafInputs: string[];
      rootsBySize: string[];
    };
    const leafHashes = data.leafInputs.map((hex) =>
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), Buffer.from(hex, 'hex')]))
        .digest(),
    );
    const sizes = data.rootsBySize.map((root, n) => [n, root] as const);

    it('covers sizes 0..8', () => {
      expect(data.rootsBySize).toHaveLength(9);
    });

    it.each(sizes)('size %i: rootOfLeafHashes, the accumulator and the tile builder agree', (n, root) => {
      const leaves = leafHashes.slice(0, n);
      expect(rootOfLeafHashes(leaves).toString('hex')).toBe(root);
      const acc = createMerkleAccumulator();
      for (const leaf of leaves) acc.append(leaf);
      expect(acc.root().toString('hex')).toBe(root);
      const tiles = createTileBuilder({ size: 0, rightEdge: [] });
      tiles.append(leaves);
      expect(tiles.root().toString('hex')).toBe(root);
    });
  });
});
