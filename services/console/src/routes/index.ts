import type { ConsoleAuditTrail } from '@phi-audit/console-audit';
import type { AccessQueryStore, ProofStore } from '@phi-audit/ledger';
import type { AlertReviewStore, DetectionStore } from '@phi-audit/rules';
import type { FastifyInstance } from 'fastify';
import { registerAccessReportRoutes } from './access-report.js';
import type { AlertContextLedger } from './alert-context.js';
import { registerAlertRoutes } from './alerts.js';
import { registerSearchRoutes } from './search.js';

/**
 * Everything the console's routes read and write. Embedded mode passes its SQLite stores and
 * the in-process ledger as the audit trail's publisher; cluster mode its ClickHouse stores and
 * a Kafka publisher. One list of route groups for both (registerConsoleRoutes).
 */
export interface ConsoleRouteDeps {
  /** Alerts, their review decisions, cases. */
  detection: AlertReviewStore & Pick<DetectionStore, 'alert'>;
  /** The ledger's read side: access queries, records, proofs, checkpoints. */
  ledger: AlertContextLedger & AccessQueryStore & ProofStore;
  audit: ConsoleAuditTrail;
  /** Epoch ms of decisions and case events. Default Date.now. */
  now?: () => number;
}

/** Registers every console API route group on `api` (the `/api` scope of registerConsole). */
export function registerConsoleRoutes(api: FastifyInstance, deps: ConsoleRouteDeps): void {
  const clock = deps.now !== undefined ? { now: deps.now } : {};
  registerAlertRoutes(api, {
    review: deps.detection,
    detection: deps.detection,
    ledger: deps.ledger,
    audit: deps.audit,
    ...clock,
  });
  registerSearchRoutes(api, { ledger: deps.ledger, audit: deps.audit, ...clock });
  registerAccessReportRoutes(api, { ledger: deps.ledger, audit: deps.audit, ...clock });
}
