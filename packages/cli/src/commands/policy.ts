import type { Command } from 'commander';
import { checkPolicyFile } from '@phi-audit/detector';

/** `phi-audit policy check <file>`: validates a detection policy file, printing every problem. */
export function registerPolicyCommand(program: Command): void {
  const policy = program.command('policy').description('Detection policy files');
  policy
    .command('check')
    .description('Validate a policy file: prints "ok", or every problem and exits 1')
    .argument('<file>', 'policy JSON file (<policy dir>/<tenant>.json or default.json)')
    .action((file: string) => {
      const result = checkPolicyFile(file);
      if (result.ok) {
        process.stdout.write('ok\n');
        return;
      }
      process.stderr.write(`${file}: invalid policy:\n${result.problems.map((p) => `  - ${p}\n`).join('')}`);
      process.exitCode = 1;
    });
}
