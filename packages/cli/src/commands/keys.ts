import type { Command } from 'commander';
import {
  createAuditorKey,
  createIngestKey,
  DEFAULT_KEYS_FILE,
  listIngestKeys,
  revokeIngestKey,
  roleOf,
} from '@phi-audit/collector';
import { KEYS_FILE, keysFileIn } from '@phi-audit/store-sqlite';

interface KeysFileOption {
  keysFile?: string;
  /** Embedded mode's data directory: the key file is `<dir>/ingest-keys.json`, where the runtime reads it. */
  data?: string;
}

/**
 * The key file: --keys-file, else --data <dir>/ingest-keys.json, else $PHI_AUDIT_KEYS_FILE,
 * else $PHI_AUDIT_DATA_DIR/ingest-keys.json, else data/ingest-keys.json.
 */
function keysFile(options: KeysFileOption): string {
  if (options.keysFile !== undefined && options.data !== undefined) {
    throw new Error('use either --keys-file <file> or --data <dir>, not both');
  }
  if (options.keysFile !== undefined) return options.keysFile;
  if (options.data !== undefined) return keysFileIn(options.data);
  const { PHI_AUDIT_KEYS_FILE: envFile, PHI_AUDIT_DATA_DIR: envDir } = process.env;
  if (envFile) return envFile;
  if (envDir) return keysFileIn(envDir);
  return DEFAULT_KEYS_FILE;
}

const DATA_HELP = `data directory of the embedded runtime: use <dir>/${KEYS_FILE} (default: $PHI_AUDIT_DATA_DIR)`;

/**
 * `phi-audit keys create|list|revoke`: manages collector ingest keys in the key file
 * (--keys-file, or --data <dir> for `<dir>/ingest-keys.json`; default $PHI_AUDIT_KEYS_FILE,
 * $PHI_AUDIT_DATA_DIR/ingest-keys.json or data/ingest-keys.json). A running collector picks
 * changes up within a second.
 */
export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description('Manage API keys: ingest keys (one per tenant and source system) and auditor keys');

  keys
    .command('create')
    .description('Create a key; it is printed once and only its hash is stored')
    .option(
      '--role <role>',
      'ingest (send events; needs --tenant and --source) or auditor (read the ledger API)',
      'ingest',
    )
    .option('--tenant <tenant>', 'ingest keys: tenant the key may write events for')
    .option('--source <system>', "ingest keys: source system the key belongs to (the events' source.system)")
    .option('--keys-file <file>', `key file (default: $PHI_AUDIT_KEYS_FILE or ${DEFAULT_KEYS_FILE})`)
    .option('--data <dir>', DATA_HELP)
    .action(async (options: KeysFileOption & { role: string; tenant?: string; source?: string }) => {
      const file = keysFile(options);
      if (options.role === 'auditor') {
        if (options.tenant !== undefined || options.source !== undefined) {
          throw new Error('auditor keys are not bound to a tenant or source: omit --tenant and --source');
        }
        const { key, keyId } = await createAuditorKey({ file });
        process.stdout.write(`${key}\n`);
        process.stderr.write(
          `Created auditor key ${keyId} in ${file}: it reads the ledger API (/v1/ledger: log sizes, signed checkpoints, proofs) and cannot send events. Store it now: it is not shown again.\n`,
        );
        return;
      }
      if (options.role !== 'ingest') throw new Error(`unknown role "${options.role}": use ingest or auditor`);
      if (options.tenant === undefined || options.source === undefined) {
        throw new Error('ingest keys need --tenant <tenant> and --source <system>');
      }
      const { key, keyId } = await createIngestKey({ file, tenant: options.tenant, source: options.source });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Created key ${keyId} for tenant "${options.tenant}", source "${options.source}" in ${file}. Store it now: it is not shown again.\n` +
          `Use it: curl -X POST http://127.0.0.1:8080/v1/events -H "Authorization: Bearer <the key above>" -H "Content-Type: application/json" --data-binary @events.json\n`,
      );
    });

  keys
    .command('list')
    .description('List keys (ids, roles, tenants, sources; never secrets)')
    .option('--keys-file <file>', `key file (default: $PHI_AUDIT_KEYS_FILE or ${DEFAULT_KEYS_FILE})`)
    .option('--data <dir>', DATA_HELP)
    .action(async (options: KeysFileOption) => {
      for (const k of await listIngestKeys({ file: keysFile(options) })) {
        process.stdout.write(
          `${k.keyId}\t${roleOf(k)}\t${k.role === 'auditor' ? '-' : k.tenant}\t${k.role === 'auditor' ? '-' : k.source}\t${k.createdAt}\t${k.revokedAt === undefined ? 'active' : `revoked ${k.revokedAt}`}\n`,
        );
      }
    });

  keys
    .command('revoke <keyId>')
    .description('Revoke a key; the running service rejects it within a second')
    .option('--keys-file <file>', `key file (default: $PHI_AUDIT_KEYS_FILE or ${DEFAULT_KEYS_FILE})`)
    .option('--data <dir>', DATA_HELP)
    .action(async (keyId: string, options: KeysFileOption) => {
      const file = keysFile(options);
      if (!(await revokeIngestKey({ file, keyId }))) throw new Error(`no key ${keyId} in ${file}`);
      process.stdout.write(`revoked ${keyId}\n`);
    });
}
