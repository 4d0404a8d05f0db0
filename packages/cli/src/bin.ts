#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAlertsCommand } from './commands/alerts.js';
import { registerCollectorCommand } from './commands/collector.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDetectorCommand } from './commands/detector.js';
import { registerEvidenceCommand } from './commands/evidence.js';
import { registerImportCommand } from './commands/import.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerLedgerWriterCommand } from './commands/ledger-writer.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerServicesCommand } from './commands/services.js';
import { registerSigningKeyCommand } from './commands/signing-key.js';
import { registerStartCommand } from './commands/start.js';
import { registerUsersCommand } from './commands/users.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerVerifyEvidenceCommand } from './commands/verify-evidence.js';

const program = new Command('phi-audit')
  .description('Append-only, tamper-evident PHI access ledger')
  .version('0.1.0')
  .showHelpAfterError();

registerStartCommand(program);
registerServicesCommand(program);
registerMigrateCommand(program);
registerCollectorCommand(program);
registerLedgerWriterCommand(program);
registerDetectorCommand(program);
registerConsoleCommand(program);
registerPolicyCommand(program);
registerKeysCommand(program);
registerUsersCommand(program);
registerSigningKeyCommand(program);
registerVerifyCommand(program);
registerEvidenceCommand(program);
registerVerifyEvidenceCommand(program);
registerDemoCommand(program);
registerAlertsCommand(program);
registerImportCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  // Users see a message, never a stack trace; PHI_AUDIT_DEBUG=1 shows the cause chain.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`phi-audit: ${message}\n`);
  if (process.env.PHI_AUDIT_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  process.exit(2);
}
