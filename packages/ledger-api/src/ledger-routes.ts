/**
 * The ledger's verification API, a fastify plugin mounted by embedded mode (and by the console
 * later): list logs, latest checkpoint, inclusion proof, consistency proof. Hashes only, never
 * event contents; still authenticated (origins name tenants and sizes reveal volumes).
 */
import type { FastifyInstance } from 'fastify';
import type { ProofStore } from '@phi-audit/ledger';

export interface LedgerRoutesOptions {
  store: ProofStore;
  /** The caller of a request from its bearer token, or undefined (→ 401). Must be constant-time in the secret. */
  authenticate(bearer: string): { keyId: string } | undefined;
  /** Route prefix. Default '/v1/ledger'. */
  prefix?: string;
}

/**
 * Registers:
 *   GET {prefix}/logs                                   → { logs: [{ origin, size, checkpoint: { size, root, signedAt } | null }] }
 *   GET {prefix}/checkpoint?log=O                       → the latest signed checkpoint note (text/plain)
 *   GET {prefix}/inclusion?log=O&index=I[&size=S]       → { log, index, size, leafHash, proof: [hex…], checkpoint: note | null }
 *   GET {prefix}/consistency?log=O&from=S1[&to=S2]      → { log, from, to, proof: [hex…], checkpoint: note | null }
 * `size` / `to` default to the latest checkpoint's size. Errors are JSON { error: CODE, message }.
 */
export async function registerLedgerRoutes(app: FastifyInstance, options: LedgerRoutesOptions): Promise<void> {
  void app;
  void options;
  throw new Error('not implemented');
}
