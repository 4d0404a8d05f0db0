import type { ConsoleAuditTrail } from '@phi-audit/console-audit';
import type { AccessQueryStore, AccessVolumeStore, NoteVerifier, ProofStore } from '@phi-audit/ledger';
import type { AlertReviewStore, CaseStore, DetectionStore } from '@phi-audit/rules';
import type { FastifyInstance } from 'fastify';
import { registerAccessReportRoutes } from './access-report.js';
import type { AlertContextLedger } from './alert-context.js';
import { registerAlertRoutes } from './alerts.js';
import { registerCaseRoutes } from './cases.js';
import { registerDashboardRoutes } from './dashboard.js';
import { registerEvidenceRoutes } from './evidence.js';
import { registerLedgerStatusRoutes } from './ledger-status.js';
import { registerSearchRoutes } from './search.js';

/**
 * Everything the console's routes read and write. Embedded mode passes its SQLite stores and
 * the in-process ledger as the audit trail's publisher; cluster mode its ClickHouse stores and
 * a Kafka publisher. One list of route groups for both (registerConsoleRoutes).
 */
export interface ConsoleRouteDeps {
  /** Alerts, their review decisions, cases. */
  detection: AlertReviewStore & Pick<DetectionStore, 'alert'> & CaseStore;
  /** The ledger's read side: access queries and volume, records, proofs, checkpoints. */
  ledger: AlertContextLedger & AccessQueryStore & AccessVolumeStore & ProofStore;
  audit: ConsoleAuditTrail;
  /**
   * The published verifier key(s) of the checkpoint signer: evidence exports need a checkpoint
   * that verifies with one (none: the export answers 503), and the ledger status checks
   * signatures with them. Embedded mode: the data directory's signing key; cluster mode:
   * PHI_AUDIT_VERIFIER_KEYS.
   */
  verifierKeys?: readonly NoteVerifier[];
  /**
   * The logs holding a tenant's records, for the ledger status. Embedded mode: the tenant's own
   * log (embeddedOrigin); cluster mode: the topic's partition logs. Absent: no logs are listed.
   */
  tenantLogs?: (tenant: string) => Promise<readonly string[]> | readonly string[];
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
  registerCaseRoutes(api, { detection: deps.detection, audit: deps.audit, ...clock });
  registerDashboardRoutes(api, { review: deps.detection, cases: deps.detection, ledger: deps.ledger, ...clock });
  const verifierKeys = deps.verifierKeys ?? [];
  registerEvidenceRoutes(api, { ledger: deps.ledger, audit: deps.audit, verifierKeys, ...clock });
  registerLedgerStatusRoutes(api, {
    ledger: deps.ledger,
    verifierKeys,
    tenantLogs: deps.tenantLogs ?? (() => []),
    ...clock,
  });
}
