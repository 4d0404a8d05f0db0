import type { Command } from 'commander';
import { createSigningKeyFile } from '@phi-audit/checkpoints';

/** What `signing-key create` did, in words for the operator. Never contains the signer key. */
export function describeCreatedSigningKey(created: { verifierKey: string; publicFile: string }, file: string): string {
  return (
    `Created checkpoint signing key ${file} (mode 0600; keep it outside the database and back it up)\n` +
    `and its verifier key ${created.publicFile}.\n` +
    `Point the ledger writer at it: CHECKPOINT_SIGNING_KEY_FILE=${file}\n` +
    `Give auditors the verifier key above: phi-audit verify --key '${created.verifierKey}' (or --key ${created.publicFile})\n`
  );
}

/**
 * `phi-audit signing-key create --name <name> --out <file>`: a new Ed25519 checkpoint signing
 * key in `<file>` (0600, never overwritten) and its verifier key in `<file>.pub`; prints the
 * verifier key on stdout (it is public) and where the files are on stderr.
 */
export function registerSigningKeyCommand(program: Command): void {
  const signingKey = program
    .command('signing-key')
    .description('Manage the Ed25519 key that signs ledger checkpoints (kept in a file, never in the database)');

  signingKey
    .command('create')
    .description('Create a checkpoint signing key file and print its verifier key')
    .requiredOption('--name <name>', 'key name, part of every signature line (e.g. phi-audit.example-health.org)')
    .requiredOption('--out <file>', 'where to write the signing key (the verifier key goes to <file>.pub)')
    .action((options: { name: string; out: string }) => {
      const created = createSigningKeyFile({ name: options.name, file: options.out });
      process.stdout.write(`${created.verifierKey}\n`);
      process.stderr.write(describeCreatedSigningKey(created, options.out));
    });
}
