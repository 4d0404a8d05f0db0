import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Role } from '@phi-audit/console-accounts';
import { checkLogStatus, verifierKeyLabel, type LogStatusStore, type NoteVerifier } from '@phi-audit/ledger';
import { LedgerStatusResponseSchema, TenantParamsSchema } from './evidence-schemas.js';
import { ROUTE_ERROR_BODY_SCHEMA, zodRouteOptions } from './route-schema.js';

/**
 * The ledger's verification status for the dashboard (issue 6): `GET
 * /api/tenants/:tenant/ledger-status` checks each of the tenant's logs (checkLogStatus of
 * @phi-audit/ledger: head, latest checkpoint, its signature against the console's verifier
 * keys, and the root recomputed from the stored tiles). Origins, sizes, times and key names
 * only — no PHI — so every role may read it, auditors included, and it is not recorded.
 */

export interface LedgerStatusRoutesOptions {
  ledger: LogStatusStore;
  verifierKeys: readonly NoteVerifier[];
  /**
   * The logs holding the tenant's records. Embedded mode: the tenant's own log; cluster mode:
   * every partition log of the topic (partitions are shared by tenants).
   */
  tenantLogs: (tenant: string) => Promise<readonly string[]> | readonly string[];
  /** Epoch ms of `checkedAt`. Default Date.now. */
  now?: () => number;
}

const EVERYONE: readonly Role[] = ['privacy_officer', 'investigator', 'admin', 'auditor'];

/** Registers `GET /tenants/:tenant/ledger-status` on `app`. */
export function registerLedgerStatusRoutes(fastify: FastifyInstance, options: LedgerStatusRoutesOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ledger, verifierKeys, tenantLogs } = options;
  const now = options.now ?? Date.now;
  const keyLabels = verifierKeys.map(verifierKeyLabel);

  app.get(
    '/tenants/:tenant/ledger-status',
    {
      config: { access: { roles: EVERYONE, tenantScoped: true } },
      ...zodRouteOptions({
        summary: "Verification status of the tenant's logs: head, latest checkpoint, signature, tiles (no PHI)",
        params: TenantParamsSchema,
        response: { 200: LedgerStatusResponseSchema, '4xx': ROUTE_ERROR_BODY_SCHEMA, '5xx': ROUTE_ERROR_BODY_SCHEMA },
      }),
    },
    async (request, reply) => {
      const { tenant } = request.params;
      const origins = [...new Set(await tenantLogs(tenant))].sort();
      const logs = [];
      // One log at a time: a cluster has a few dozen partitions, and each check reads tiles.
      for (const origin of origins)
        logs.push(await checkLogStatus({ store: ledger, origin, trustedKeys: verifierKeys, now }));
      const failing = logs.filter((l) => !l.signatureValid || l.rootMatchesTiles === false).length;
      request.log.debug({ tenant, logs: logs.length, failing }, 'ledger status');
      return reply.header('cache-control', 'no-store').send({ tenant, verifierKeys: keyLabels, logs });
    },
  );
}
