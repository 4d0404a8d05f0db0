import { randomUUID } from 'node:crypto';
import type { AccessEvent } from '@phi-audit/schema';
import { ConsoleActionSchema, type ConsoleAction, type ConsoleActionKind } from './console-action.js';
import { CONSOLE_PURPOSE_OF_USE, consoleAccessEvents } from './console-events.js';
import { ConsoleAuditError } from './errors.js';

/** The subset of a pino logger the trail uses. Entries carry kind, tenant and counts only. */
export interface ConsoleAuditLogger {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConsoleAuditTrailOptions {
  /**
   * The ingest path's publisher: EventPublisher.publish (resolves after Kafka acked from all
   * in-sync replicas) or the embedded ledger's (resolves after the SQLite commit).
   */
  publish: (events: readonly AccessEvent[]) => Promise<void>;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
  /** Event ids. Default crypto.randomUUID. */
  newId?: () => string;
  /** source.system of the console's events. Default `phi-audit-console`. */
  sourceSystem?: string;
  /** purposeOfUse of the console's events. Default HCOMPL (CONSOLE_PURPOSE_OF_USE). */
  purposeOfUse?: string;
  logger?: ConsoleAuditLogger;
}

export interface ConsoleAuditTrail {
  /**
   * Records `action` in the ledger and resolves once the ledger acknowledged every one of its
   * events. A console route calls it BEFORE it sends anything: on rejection it must answer
   * with the error's statusCode and disclose nothing. Rejects with CONSOLE_AUDIT_UNAVAILABLE
   * (503; the publisher's error as `cause`) when the ledger did not acknowledge, and
   * CONSOLE_AUDIT_INVALID_ACTION (500) for a malformed action (nothing published).
   */
  record(action: ConsoleAction): Promise<void>;
}

export const DEFAULT_CONSOLE_SOURCE_SYSTEM = 'phi-audit-console';

/** Stable code and name of a publisher's error, for the log: never its message (it may echo an event). */
function failureSummary(error: unknown): { errorName: string; errorCode?: string } {
  if (!(error instanceof Error)) return { errorName: typeof error };
  const code = (error as { code?: unknown }).code;
  return { errorName: error.name, ...(typeof code === 'string' ? { errorCode: code } : {}) };
}

const silent: ConsoleAuditLogger = { debug() {}, error() {} };

/**
 * Creates the console's audit trail ("audit before disclose", HIPAA 164.312(b)): every view,
 * search, export and decision of the console becomes AccessEvents of the console itself,
 * appended through the same publisher as ingested events, so `verify` covers them and a
 * patient's access report shows who in the privacy office looked them up.
 */
export function createConsoleAuditTrail(options: ConsoleAuditTrailOptions): ConsoleAuditTrail {
  const { publish } = options;
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const sourceSystem = options.sourceSystem ?? DEFAULT_CONSOLE_SOURCE_SYSTEM;
  const purposeOfUse = options.purposeOfUse ?? CONSOLE_PURPOSE_OF_USE;
  const logger = options.logger ?? silent;

  return {
    async record(input) {
      const parsed = ConsoleActionSchema.safeParse(input);
      const kind: ConsoleActionKind | 'unknown' = parsed.success ? parsed.data.kind : 'unknown';
      if (!parsed.success) {
        const paths = parsed.error.issues.map((i) => i.path.join('.') || '(action)').join(', ');
        logger.error({ kind, fields: paths }, 'console action refused: malformed; nothing recorded');
        throw new ConsoleAuditError(
          'CONSOLE_AUDIT_INVALID_ACTION',
          `the console action is malformed (fields: ${paths}); nothing was recorded`,
          { cause: parsed.error },
        );
      }
      const action = parsed.data;
      const events = consoleAccessEvents(action, { now: now(), newId, sourceSystem, purposeOfUse });
      const summary = { kind, tenant: action.tenant, events: events.length };
      try {
        await publish(events);
      } catch (error) {
        logger.error(
          { ...summary, ...failureSummary(error) },
          'console action not recorded: the ledger did not acknowledge',
        );
        throw new ConsoleAuditError(
          'CONSOLE_AUDIT_UNAVAILABLE',
          'the audit ledger did not acknowledge the console access; nothing may be shown',
          { cause: error },
        );
      }
      logger.debug(summary, 'console action recorded');
    },
  };
}
