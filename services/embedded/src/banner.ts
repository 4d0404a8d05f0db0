import { join } from 'node:path';
import { DETECTION_FILE, KEYS_FILE, LEDGER_FILE } from '@phi-audit/store-sqlite';

/** Where the checkpoint keys are and where checkpoints go, for the banner. */
export interface CheckpointSetup {
  /** The verifier key text (public). */
  verifierKey: string;
  /** The signer key file, when the key came from a file. */
  signingKeyFile?: string;
  /** `<signing key file>.pub`, when it exists. */
  verifierKeyFile?: string;
  /** True when the signing key file lies inside the data directory (the default). */
  keyInDataDir?: boolean;
  /** The signing key file was created by this start. */
  created: boolean;
  exportDir: string;
  exportUrl: string | undefined;
}

/** The checkpoint part of the banner: where the keys are, where checkpoints go, what to copy off the machine. */
function checkpointLines(c: CheckpointSetup): string[] {
  const lines = [
    'Signed checkpoints (the Merkle root of each tenant log, signed with Ed25519) protect the ledger',
    'against rewriting and truncation:',
    `  Signing key:   ${c.signingKeyFile ?? '(from CHECKPOINT_SIGNING_KEY)'}${c.created ? '  (created now)' : ''}`,
    `  Verifier key:  ${c.verifierKeyFile ?? '(not in a file)'}`,
    `                 ${c.verifierKey}`,
    `  Exported to:   ${c.exportDir}${c.exportUrl !== undefined ? ` and ${c.exportUrl}` : ''}`,
  ];
  lines.push(
    'For real tamper protection, copy the verifier key and the exported checkpoints off this machine',
    c.exportUrl !== undefined
      ? '(CHECKPOINT_EXPORT_URL sends each checkpoint away as it is signed),'
      : '(or set CHECKPOINT_EXPORT_URL to send each checkpoint away as it is signed),',
  );
  lines.push(
    c.keyInDataDir === true
      ? 'and keep the signing key outside the data directory (CHECKPOINT_SIGNING_KEY_FILE): whoever can'
      : 'and keep the signing key where only phi-audit can read it: whoever can',
    'rewrite the ledger and also holds the signing key can sign a rewritten history.',
  );
  return lines;
}

/** What a start prints when it created the signing key for an existing ledger (an upgrade). */
export function signingKeyCreatedNotice(c: CheckpointSetup): string {
  return ['', 'phi-audit: a checkpoint signing key was created.', ...checkpointLines(c), ''].join('\n') + '\n';
}

/** The one line every start prints. */
export function listeningLine(url: string, dataDir: string): string {
  return `phi-audit listening on ${url} (data: ${dataDir})\n`;
}

/**
 * What a first start (no ledger yet) prints: where the data lives, the URL, where the
 * checkpoint keys are and what to copy off the machine, how to create an ingest key and a curl
 * that posts one event. `now` dates the example event.
 */
export function firstRunBanner(options: {
  url: string;
  dataDir: string;
  now?: Date;
  checkpoints?: CheckpointSetup;
}): string {
  const { url, dataDir } = options;
  const occurredAt = (options.now ?? new Date()).toISOString();
  const example = JSON.stringify([
    {
      eventId: 'evt-0001',
      occurredAt,
      actor: { userId: 'dr.example', role: 'physician' },
      patient: { id: 'MRN-0001' },
      action: 'view',
      resource: { type: 'Patient' },
      outcome: 'success',
    },
  ]);
  return [
    '',
    'phi-audit: a new access ledger was created.',
    `  Data:    ${dataDir}  (ledger: ${LEDGER_FILE}, ingest keys: ${KEYS_FILE}; back this directory up)`,
    `  Ingest:  ${url}/v1/events   (health: ${url}/readyz, metrics: ${url}/metrics)`,
    `  Proofs:  ${url}/v1/ledger/logs   (logs, signed checkpoints, inclusion and consistency proofs)`,
    `  Alerts:  ${DETECTION_FILE}, from the detection rules (policies: ${join(dataDir, 'policies')}/<tenant>.json)`,
    `  Console: ${url}/console/   (first create the admin: npm run phi-audit -- users create --data ${dataDir} --username admin --role admin; API docs: ${url}/docs)`,
    '',
    ...(options.checkpoints !== undefined ? [...checkpointLines(options.checkpoints), ''] : []),
    'Create an ingest key per tenant and source system (shown once; only its hash is stored;',
    'the running ledger picks it up within a second):',
    `  npm run phi-audit -- keys create --data ${dataDir} --tenant my-clinic --source my-ehr`,
    '',
    'Send an event with it:',
    `  curl -X POST ${url}/v1/events -H "Authorization: Bearer <the key>" -H "Content-Type: application/json" \\`,
    `    --data '${example}'`,
    '',
    'Auditors read the logs, signed checkpoints and proofs with an auditor key (it cannot send events):',
    `  npm run phi-audit -- keys create --data ${dataDir} --role auditor`,
    '',
    'Only this machine can connect; start with HOST=0.0.0.0 to accept events from the network.',
    '',
  ].join('\n');
}
