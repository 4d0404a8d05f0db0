/**
 * The ledger's verification API, a fastify plugin mounted by embedded mode (and by the console
 * later): list logs, latest checkpoint, inclusion proof, consistency proof. Hashes only, never
 * event contents; still authenticated (origins name tenants and sizes reveal volumes).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  consistencyProof,
  createTileNodeReader,
  inclusionProof,
  isLedgerError,
  parseCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type ProofStore,
  type StoredCheckpoint,
} from '@phi-audit/ledger';

export interface LedgerRoutesOptions {
  store: ProofStore;
  /** The caller of a request from its bearer token, or undefined (→ 401). Must be constant-time in the secret. */
  authenticate(bearer: string): { keyId: string } | undefined;
  /** Route prefix. Default '/v1/ledger'. */
  prefix?: string;
}

/** Error codes of the ledger API, each with its HTTP status. */
export const LEDGER_API_ERRORS = {
  LEDGER_API_UNAUTHENTICATED: 401,
  LEDGER_API_INVALID_QUERY: 400,
  LEDGER_API_UNKNOWN_LOG: 404,
  LEDGER_API_NO_CHECKPOINT: 404,
  LEDGER_API_OUT_OF_RANGE: 404,
  LEDGER_API_NOT_CHECKPOINTED: 409,
  LEDGER_API_LOG_DAMAGED: 409,
  LEDGER_TILES_MISSING: 503,
  LEDGER_PROOF_INVALID: 500,
  LEDGER_API_STORE_FAILED: 503,
} as const;

export type LedgerApiErrorCode = keyof typeof LEDGER_API_ERRORS;

class LedgerApiError extends Error {
  constructor(
    readonly code: LedgerApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_LOG_LENGTH = 512;
/** Decimal, no sign, no leading zeros, at most a safe integer. */
const count = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .regex(/^(0|[1-9][0-9]{0,15})$/, `${name} must be a non-negative whole number in decimal`)
    .transform(Number)
    .refine(Number.isSafeInteger, `${name} is too large`);
const logParam = z
  .string({ error: 'log is required' })
  .min(1, 'log must not be empty')
  .max(MAX_LOG_LENGTH, `log must be at most ${MAX_LOG_LENGTH} characters`)
  .refine((s) => s.isWellFormed(), 'log must be well-formed Unicode');

const CheckpointQuery = z.strictObject({ log: logParam });
const InclusionQuery = z.strictObject({ log: logParam, index: count('index'), size: count('size').optional() });
const ConsistencyQuery = z.strictObject({ log: logParam, from: count('from'), to: count('to').optional() });

function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') ?? '';
  const message =
    issue?.code === 'unrecognized_keys'
      ? `unknown query parameter ${issue.keys.join(', ')}`
      : `${where === '' ? 'query' : where}: ${issue?.message ?? 'invalid'}`;
  throw new LedgerApiError('LEDGER_API_INVALID_QUERY', message);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Registers:
 *   GET {prefix}/logs                                   → { logs: [{ origin, size, checkpoint: { size, root, signedAt } | null }] }
 *   GET {prefix}/checkpoint?log=O                       → the latest signed checkpoint note (text/plain)
 *   GET {prefix}/inclusion?log=O&index=I[&size=S]       → { log, index, size, leafHash, proof: [hex…], checkpoint: note | null }
 *   GET {prefix}/consistency?log=O&from=S1[&to=S2]      → { log, from, to, proof: [hex…], checkpoint: note | null }
 * `size`, `from` (unless 0) and `to` must be sizes of stored checkpoints (`size` / `to` default to
 * the latest): a proof is only useful against a signed root. Every proof is verified against the stored root before it is
 * served. Errors are JSON { error: CODE, message }.
 */
export async function registerLedgerRoutes(app: FastifyInstance, options: LedgerRoutesOptions): Promise<void> {
  const { store } = options;
  const prefix = options.prefix ?? '/v1/ledger';

  await app.register(
    (api, _pluginOptions, pluginDone) => {
      api.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        const header = request.headers.authorization;
        const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
        const caller = token === '' ? undefined : options.authenticate(token);
        if (caller === undefined) {
          // A reply sent from a callback-style hook ends the request: done() is not called.
          void reply
            .code(401)
            .header('www-authenticate', token === '' ? 'Bearer' : 'Bearer error="invalid_token"')
            .send({
              error: 'LEDGER_API_UNAUTHENTICATED',
              message:
                token === ''
                  ? 'an auditor key is required (Authorization: Bearer <key>)'
                  : 'the key is unknown, revoked, or not an auditor key',
            });
          return;
        }
        request.log = request.log.child({ auditorKeyId: caller.keyId });
        done();
      });

      api.setErrorHandler((error: unknown, request, reply) => {
        if (error instanceof LedgerApiError) {
          const status = LEDGER_API_ERRORS[error.code];
          request.log.info({ code: error.code, status }, 'ledger API request refused');
          return reply.code(status).send({ error: error.code, message: error.message });
        }
        if (isLedgerError(error, 'LEDGER_TILES_MISSING')) {
          request.log.warn({ code: error.code }, 'tiles missing for a proof');
          return reply.code(503).send({
            error: 'LEDGER_TILES_MISSING',
            message: `${error.message}; the writer stores them with the records (run phi-audit verify if this persists)`,
          });
        }
        const validation = (error as { validation?: unknown; statusCode?: number }).statusCode;
        if (typeof validation === 'number' && validation >= 400 && validation < 500) {
          return reply.code(validation).send({ error: 'LEDGER_API_INVALID_QUERY', message: 'malformed request' });
        }
        // Store failures: the code only, driver messages may carry data.
        request.log.error({ code: (error as { code?: unknown }).code }, 'ledger API request failed');
        return reply
          .code(503)
          .send({ error: 'LEDGER_API_STORE_FAILED', message: 'the ledger store could not be read' });
      });

      /** The latest checkpoint of `log`, or 404 (unknown log / nothing signed yet). */
      const latestOf = async (log: string): Promise<StoredCheckpoint> => {
        const latest = await store.latestCheckpoint(log);
        if (latest !== undefined) return latest;
        const head = await store.head(log);
        throw head.size === 0
          ? new LedgerApiError('LEDGER_API_UNKNOWN_LOG', `no log named "${log}"`)
          : new LedgerApiError('LEDGER_API_NO_CHECKPOINT', `log "${log}" has no signed checkpoint yet`);
      };

      /**
       * The stored checkpoint of `log` at exactly `size`. Proofs are served only for signed sizes:
       * the server checks each proof against that root before answering, and a client can only
       * use a proof against a root it trusts.
       */
      const checkpointAt = async (log: string, size: number, latest: StoredCheckpoint): Promise<StoredCheckpoint> => {
        if (size > latest.size) {
          throw new LedgerApiError(
            'LEDGER_API_NOT_CHECKPOINTED',
            `size ${size} is beyond the latest signed checkpoint of "${log}" (${latest.size})`,
          );
        }
        const found = latest.size === size ? latest : (await store.checkpoints(log)).find((c) => c.size === size);
        if (found === undefined) {
          throw new LedgerApiError(
            'LEDGER_API_NOT_CHECKPOINTED',
            `no signed checkpoint of "${log}" has size ${size}; proofs are served for checkpointed sizes`,
          );
        }
        return found;
      };

      /** The root a checkpoint's signed text states (the note is what clients verify, not the root column). */
      const rootOf = (checkpoint: StoredCheckpoint): Buffer =>
        parseCheckpoint(checkpoint.note.slice(0, checkpoint.note.indexOf('\n\n') + 1)).root;

      const reader = (log: string, size: number) => createTileNodeReader((ids) => store.readTiles(log, ids), size);

      api.get('/logs', async () => {
        const [heads, checkpointed] = await Promise.all([store.heads(), store.checkpointedLogs()]);
        const sizes = new Map(heads.map((h) => [h.origin, h.size]));
        for (const origin of checkpointed) if (!sizes.has(origin)) sizes.set(origin, 0);
        const origins = [...sizes.keys()].sort();
        const logs = await Promise.all(
          origins.map(async (origin) => {
            const latest = await store.latestCheckpoint(origin);
            return {
              origin,
              size: sizes.get(origin) ?? 0,
              checkpoint:
                latest === undefined
                  ? null
                  : { size: latest.size, root: latest.rootHex, signedAt: new Date(latest.signedAt).toISOString() },
            };
          }),
        );
        return { logs };
      });

      api.get('/checkpoint', async (request, reply) => {
        const { log } = parseQuery(CheckpointQuery, request.query);
        const latest = await latestOf(log);
        return reply.type('text/plain; charset=utf-8').send(latest.note);
      });

      api.get('/inclusion', async (request) => {
        const q = parseQuery(InclusionQuery, request.query);
        const latest = await latestOf(q.log);
        const size = q.size ?? latest.size;
        const checkpoint = await checkpointAt(q.log, size, latest);
        if (q.index >= size) {
          throw new LedgerApiError('LEDGER_API_OUT_OF_RANGE', `index ${q.index} is not below size ${size}`);
        }
        const rows = await store.recordsAt(q.log, [q.index]);
        const row = rows[0];
        if (rows.length !== 1 || row === undefined || row.index !== q.index) {
          throw new LedgerApiError(
            'LEDGER_API_LOG_DAMAGED',
            `log "${q.log}" has ${rows.length} rows at index ${q.index}: the log is damaged; run phi-audit verify`,
          );
        }
        const proof = await inclusionProof(q.index, size, reader(q.log, size));
        const check = verifyInclusion({
          index: q.index,
          size,
          leafHash: Buffer.from(row.leafHash, 'hex'),
          proof,
          root: rootOf(checkpoint),
        });
        if (!check.ok) {
          throw new LedgerApiError(
            'LEDGER_PROOF_INVALID',
            `the proof built from the stored tiles does not verify against the signed checkpoint (${check.reason}); run phi-audit verify`,
          );
        }
        return {
          log: q.log,
          index: q.index,
          size,
          leafHash: row.leafHash,
          proof: proof.map(hex),
          checkpoint: checkpoint.note,
        };
      });

      api.get('/consistency', async (request) => {
        const q = parseQuery(ConsistencyQuery, request.query);
        const latest = await latestOf(q.log);
        const to = q.to ?? latest.size;
        const toCheckpoint = await checkpointAt(q.log, to, latest);
        if (q.from > to)
          throw new LedgerApiError('LEDGER_API_OUT_OF_RANGE', `from (${q.from}) is greater than to (${to})`);
        const fromCheckpoint = q.from === 0 ? undefined : await checkpointAt(q.log, q.from, latest);
        const proof = await consistencyProof(q.from, to, reader(q.log, to));
        if (fromCheckpoint !== undefined) {
          const check = verifyConsistency({
            size1: q.from,
            size2: to,
            root1: rootOf(fromCheckpoint),
            root2: rootOf(toCheckpoint),
            proof,
          });
          if (!check.ok) {
            throw new LedgerApiError(
              'LEDGER_PROOF_INVALID',
              `the proof built from the stored tiles does not verify against the signed checkpoints (${check.reason}); run phi-audit verify`,
            );
          }
        }
        return { log: q.log, from: q.from, to, proof: proof.map(hex), checkpoint: toCheckpoint.note };
      });
      pluginDone();
    },
    { prefix },
  );
}
