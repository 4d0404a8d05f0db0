import type { Command } from 'commander';
import { createIngestKey, DEFAULT_KEYS_FILE, listIngestKeys, revokeIngestKey } from '@phi-audit/collector';

interface KeysFileOption {
  keysFile?: string;
}

function keysFile(options: KeysFileOption): string {
  return options.keysFile ?? process.env.PHI_AUDIT_KEYS_FILE ?? DEFAULT_KEYS_FILE;
}

/**
 * `phi-audit keys create|list|revoke`: manages collector ingest keys in the key file
 * (PHI_AUDIT_KEYS_FILE, default data/ingest-keys.json). A running collector picks changes up
 * within a second.
 */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage collector ingest keys (one per tenant and source system)');

  keys
    .command('create')
    .description('Create an ingest key; it is printed once and only its hash is stored')
    .requiredOption('--tenant <tenant>', 'tenant the key may write events for')
    .requiredOption('--source <system>', "source system the key belongs to (the events' source.system)")
    .option('--keys-file <file>', `key file (default: $PHI_AUDIT_KEYS_FILE or ${DEFAULT_KEYS_FILE})`)
    .action(async (options: KeysFileOption & { tenant: string; source: string }) => {
      const file = keysFile(options);
      const { key, keyId } = await createIngestKey({ file, tenant: options.tenant, source: options.source });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Created key ${keyId} for tenant "${options.tenant}", source "${options.source}" in ${file}. Store it now: it is not shown again.\n` +
          `Use it: curl -X POST http://127.0.0.1:8080/v1/events -H "Authorization: Bearer <the key above>" -H "Content-Type: application/json" --data-binary @events.json\n`,
      );
    });

  keys
    .command('list')
    .description('List ingest keys (ids, tenants, sources; never secrets)')
    .option('--keys-file <file>', `key file (default: $PHI_AUDIT_KEYS_FILE or ${DEFAULT_KEYS_FILE})`)
    .action(async (options: KeysFileOption) => {
      for (const k of await listIngestKeys({ file: keysFile(options) })) {
        process.stdout.write(
          `${k.keyId}\t${k.tenant}\t${k.source}\t${k.createdAt}\t${k.revokedAt === undefined ? 'active' : `revoked ${k.revokedAt}`}\n`,
        );
      }
    });

  keys
    .command('revoke <keyId>')
    .description('Revoke an ingest key; the collector rejects it within a second')
    .option('--keys-file <file>', `key file (default: $PHI_AUDIT_KEYS_FILE or ${DEFAULT_KEYS_FILE})`)
    .action(async (keyId: string, options: KeysFileOption) => {
      const file = keysFile(options);
      if (!(await revokeIngestKey({ file, keyId }))) throw new Error(`no key ${keyId} in ${file}`);
      process.stdout.write(`revoked ${keyId}\n`);
    });
}
