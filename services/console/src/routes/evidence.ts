import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Role } from '@phi-audit/console-accounts';
import type { ConsoleAuditTrail, ConsoleUser } from '@phi-audit/console-audit';
import {
  bundleEvidenceRecords,
  findEvidenceRecords,
  isEvidenceError,
  type EvidenceSelector,
  type EvidenceStore,
  type NoteVerifier,
  type StoredRecord,
} from '@phi-audit/ledger';
import { principalOf } from '../route-access.js';
import { EvidenceBodySchema, TenantParamsSchema, type EvidenceBody } from './evidence-schemas.js';
import { sendAuditFailure, type RouteErrorBody } from './route-errors.js';
import { zodRouteOptions } from './route-schema.js';

/**
 * Evidence bundle export from the console (issue 6): `POST /api/tenants/:tenant/evidence` answers
 * the same file `phi-audit evidence` writes (findEvidenceRecords + bundleEvidenceRecords of
 * @phi-audit/ledger), as an attachment. The bundle holds the events themselves (PHI), so the
 * export is recorded in the ledger through the console audit trail BEFORE the file is sent:
 * without the ledger's acknowledgement the answer is 503 and no bundle leaves the console.
 * A bundle is only made when every record is covered by a checkpoint that verifies with the
 * console's verifier keys; otherwise the answer says why (409 not yet checkpointed, 503 no key).
 */

export interface EvidenceRoutesOptions {
  ledger: EvidenceStore;
  audit: ConsoleAuditTrail;
  /** Keys the checkpoints must verify with (the published verifier key of the checkpoint signer). */
  verifierKeys: readonly NoteVerifier[];
  /** Epoch ms, used in the file name. Default Date.now. */
  now?: () => number;
}

/** Stable codes of the evidence export's refusals (besides CONSOLE_INVALID_REQUEST and the audit trail's). */
export const EVIDENCE_ROUTE_ERRORS = {
  /** The console has no verifier key configured, so no checkpoint can be trusted. */
  CONSOLE_EVIDENCE_NO_VERIFIER_KEY: 503,
  /** No record matches, or some requested event ids are not in the tenant's ledger. */
  CONSOLE_EVIDENCE_NOT_FOUND: 404,
  /** The query matches more records than one bundle holds. */
  CONSOLE_EVIDENCE_TOO_MANY: 422,
  /** A record is newer than its log's latest checkpoint: retry after the next checkpoint. */
  CONSOLE_EVIDENCE_NOT_CHECKPOINTED: 409,
  /** A checkpoint does not verify with the verifier keys, or a record or proof is inconsistent: run phi-audit verify. */
  CONSOLE_EVIDENCE_UNVERIFIABLE: 500,
} as const;
type EvidenceRouteErrorCode = keyof typeof EVIDENCE_ROUTE_ERRORS;

const EXPORTERS: readonly Role[] = ['investigator', 'privacy_officer', 'admin'];
/** Checkpoints are signed every few seconds by default; a client may retry after this many. */
const RETRY_AFTER_SECONDS = 10;

function send(reply: FastifyReply, code: EvidenceRouteErrorCode, message: string): FastifyReply {
  const body: RouteErrorBody = { error: { code, message } };
  return reply.code(EVIDENCE_ROUTE_ERRORS[code]).send(body);
}

function consoleUserOf(request: FastifyRequest): ConsoleUser {
  const p = principalOf(request);
  return { username: p.username, role: p.role, ip: p.ip };
}

function selectorOf(body: EvidenceBody): EvidenceSelector {
  if (body.eventIds !== undefined) return { kind: 'events', eventIds: [...new Set(body.eventIds)] };
  if (body.patientId !== undefined) return { kind: 'patient', patientId: body.patientId };
  return { kind: 'user', userId: body.userId ?? '' };
}

/** The distinct patients of the records (the bundle discloses each of them). */
function patientsOf(records: readonly StoredRecord[]): string[] {
  const ids = new Set<string>();
  for (const r of records) {
    const id = (JSON.parse(r.eventJson) as { patient?: { id?: unknown } }).patient?.id;
    if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}

/** Registers `POST /tenants/:tenant/evidence` on `app`. */
export function registerEvidenceRoutes(fastify: FastifyInstance, options: EvidenceRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ledger, audit, verifierKeys } = options;
  const now = options.now ?? Date.now;

  app.post(
    '/tenants/:tenant/evidence',
    {
      config: { access: { roles: EXPORTERS, tenantScoped: true } },
      ...zodRouteOptions({
        summary:
          'Export an evidence bundle (phi-audit/evidence/v1) of events, or of a patient or user in a period, ' +
          'verifiable offline with phi-audit verify-evidence (recorded before it is sent)',
        params: TenantParamsSchema,
        body: EvidenceBodySchema,
      }),
    },
    async (request, reply) => {
      const { tenant } = request.params;
      const body = request.body;
      if (verifierKeys.length === 0) {
        return send(
          reply,
          'CONSOLE_EVIDENCE_NO_VERIFIER_KEY',
          'the console has no verifier key, so no checkpoint can be trusted (set PHI_AUDIT_VERIFIER_KEYS)',
        );
      }
      const found = await findEvidenceRecords(ledger, {
        tenant,
        selector: selectorOf(body),
        from: body.from,
        to: body.to,
      });
      if (!found.ok) {
        switch (found.reason) {
          case 'unknown_events':
            // A count, not the ids: messages never quote identifiers.
            return send(
              reply,
              'CONSOLE_EVIDENCE_NOT_FOUND',
              `${found.missing.length} of the requested events ${found.missing.length === 1 ? 'is' : 'are'} not in the tenant's ledger`,
            );
          case 'no_match':
            return send(reply, 'CONSOLE_EVIDENCE_NOT_FOUND', 'no records match: nothing to bundle');
          case 'too_many':
            return send(
              reply,
              'CONSOLE_EVIDENCE_TOO_MANY',
              `the query matches ${found.limit} or more records, more than one bundle holds; narrow it with from/to`,
            );
          default:
            return found satisfies never;
        }
      }
      const { records } = found;
      let bundle: string;
      try {
        bundle = await bundleEvidenceRecords({ store: ledger, records, trustedKeys: verifierKeys });
      } catch (error) {
        if (!isEvidenceError(error)) throw error;
        request.log.warn({ tenant, code: error.code, records: records.length }, 'evidence bundle refused');
        if (error.code === 'EVIDENCE_NOT_CHECKPOINTED') {
          void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
          return send(
            reply,
            'CONSOLE_EVIDENCE_NOT_CHECKPOINTED',
            'some records are not covered by a signed checkpoint yet; retry after the next checkpoint',
          );
        }
        // EvidenceError messages name logs and indexes, never event contents.
        return send(reply, 'CONSOLE_EVIDENCE_UNVERIFIABLE', `cannot produce evidence: ${error.message}`);
      }
      try {
        await audit.record({
          kind: 'export_evidence',
          tenant,
          user: consoleUserOf(request),
          eventCount: records.length,
          ...(body.patientId !== undefined ? { patientId: body.patientId } : {}),
          patientIds: patientsOf(records),
        });
      } catch (error) {
        if (sendAuditFailure(reply, error)) return reply;
        throw error;
      }
      request.log.info({ tenant, records: records.length }, 'evidence bundle exported');
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="phi-audit-evidence-${now()}.json"`)
        .type('application/json; charset=utf-8')
        .send(bundle);
    },
  );
}
