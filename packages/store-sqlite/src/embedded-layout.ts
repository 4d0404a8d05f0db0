import { join } from 'node:path';

/**
 * The embedded-mode data directory, shared by the runtime (`npm start`) and the CLI
 * (`phi-audit verify --data`, `phi-audit keys --data`) so both find the same files.
 */

/** The ledger database inside a data directory. */
export const LEDGER_FILE = 'ledger.sqlite';

/**
 * The detection database (reference data, alerts, detector cursors) inside a data directory: a
 * file of its own, so the ledger file stays append-only.
 */
export const DETECTION_FILE = 'detection.sqlite';

/** The collector's ingest keys inside a data directory. */
export const KEYS_FILE = 'ingest-keys.json';

/** Path of the ledger database of data directory `dir`. */
export function ledgerFileIn(dir: string): string {
  return join(dir, LEDGER_FILE);
}

/** Path of the detection database of data directory `dir`. */
export function detectionFileIn(dir: string): string {
  return join(dir, DETECTION_FILE);
}

/** Path of the ingest key file of data directory `dir`. */
export function keysFileIn(dir: string): string {
  return join(dir, KEYS_FILE);
}

/** The origin of a tenant's log in embedded mode: one log per tenant. */
export function embeddedOrigin(tenant: string): string {
  return `phi-audit/embedded/${tenant}`;
}
