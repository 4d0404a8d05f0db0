import { KEYS_FILE, LEDGER_FILE } from '@phi-audit/store-sqlite';

/** The one line every start prints. */
export function listeningLine(url: string, dataDir: string): string {
  return `phi-audit listening on ${url} (data: ${dataDir})\n`;
}

/**
 * What a first start (no ledger yet) prints: where the data lives, the URL, how to create an
 * ingest key and a curl that posts one event. `now` dates the example event.
 */
export function firstRunBanner(options: { url: string; dataDir: string; now?: Date }): string {
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
    '',
    'Create an ingest key per tenant and source system (shown once; only its hash is stored;',
    'the running ledger picks it up within a second):',
    `  npm run phi-audit -- keys create --data ${dataDir} --tenant my-clinic --source my-ehr`,
    '',
    'Send an event with it:',
    `  curl -X POST ${url}/v1/events -H "Authorization: Bearer <the key>" -H "Content-Type: application/json" \\`,
    `    --data '${example}'`,
    '',
    'Only this machine can connect; start with HOST=0.0.0.0 to accept events from the network.',
    '',
  ].join('\n');
}
