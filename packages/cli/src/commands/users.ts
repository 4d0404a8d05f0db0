import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  ALL_TENANTS,
  CONSOLE_FILE,
  consoleFileIn,
  createAccountStore,
  isRole,
  ROLES,
  type AccountStore,
} from '@phi-audit/console-accounts';

interface DataOption {
  data?: string;
}

interface PasswordOption {
  passwordStdin?: boolean;
}

const DATA_HELP = `data directory of the embedded runtime: accounts live in <dir>/${CONSOLE_FILE} (default: $PHI_AUDIT_DATA_DIR)`;

function dataDir(options: DataOption): string {
  const dir = options.data ?? process.env.PHI_AUDIT_DATA_DIR;
  if (dir === undefined || dir === '')
    throw new Error('name the data directory: --data <dir> (or $PHI_AUDIT_DATA_DIR)');
  return dir;
}

async function withStore<T>(options: DataOption, use: (store: AccountStore) => Promise<T> | T): Promise<T> {
  const store = createAccountStore({ file: consoleFileIn(dataDir(options)) });
  try {
    return await use(store);
  } finally {
    store.close();
  }
}

/** The whole of stdin minus one trailing newline (what `echo` or a password manager pipe adds). */
async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A password from stdin, or a generated one (144 random bits) the caller must print once. */
async function passwordOf(options: PasswordOption): Promise<{ password: string; generated: boolean }> {
  if (options.passwordStdin === true) return { password: await readStdinPassword(), generated: false };
  return { password: randomBytes(18).toString('base64url'), generated: true };
}

function printGenerated(username: string, password: string): void {
  process.stdout.write(`${password}\n`);
  process.stderr.write(`Generated the password of "${username}" (above). Store it now: it is not shown again.\n`);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * `phi-audit users create|list|disable|enable|set-password`: console accounts in
 * `<data dir>/console.sqlite`. The first account must be an admin.
 */
export function registerUsersCommand(program: Command): void {
  const users = program
    .command('users')
    .description('Manage console accounts (roles: admin, privacy_officer, investigator, auditor)');

  users
    .command('create')
    .description('Create an account; without --password-stdin a strong password is generated and printed once')
    .requiredOption('--username <username>', 'lower-case a-z 0-9 . _ -, 3 to 64 characters')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option(
      '--tenant <tenant>',
      `a tenant the account may see (repeat for more; admins default to ${ALL_TENANTS}, all)`,
      collect,
      [],
    )
    .option('--password-stdin', 'read the password from standard input')
    .option('--data <dir>', DATA_HELP)
    .action(async (options: DataOption & PasswordOption & { username: string; role: string; tenant: string[] }) => {
      if (!isRole(options.role)) throw new Error(`unknown role "${options.role}": use one of ${ROLES.join(', ')}`);
      const role = options.role;
      const tenants = options.tenant.length === 0 && role === 'admin' ? [ALL_TENANTS] : options.tenant;
      if (tenants.length === 0) throw new Error(`a ${role} needs at least one --tenant <tenant>`);
      await withStore(options, async (store) => {
        // Checked before asking for a password, so a piped password is not wasted on a refusal.
        if (store.userCount() === 0 && role !== 'admin') {
          throw new Error('the first console user must be an admin: create the admin first (--role admin)');
        }
        const { password, generated } = await passwordOf(options);
        const user = await store.createUser({ username: options.username, role, tenants, password });
        if (generated) printGenerated(user.username, password);
        process.stderr.write(`Created ${user.role} "${user.username}" for tenants ${user.tenants.join(', ')}.\n`);
      });
    });

  users
    .command('list')
    .description('List accounts: username, role, tenants, enabled/disabled (never password hashes)')
    .option('--data <dir>', DATA_HELP)
    .action(async (options: DataOption) => {
      await withStore(options, (store) => {
        for (const u of store.listUsers()) {
          process.stdout.write(
            `${u.username}\t${u.role}\t${u.tenants.join(',')}\t${u.disabled ? 'disabled' : 'enabled'}\n`,
          );
        }
      });
    });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(name)
      .description(disabled ? 'Disable an account and end its sessions' : 'Re-enable a disabled account')
      .requiredOption('--username <username>', 'the account')
      .option('--data <dir>', DATA_HELP)
      .action(async (options: DataOption & { username: string }) => {
        await withStore(options, (store) => store.setDisabled(options.username, disabled));
        process.stderr.write(`${disabled ? 'Disabled' : 'Enabled'} "${options.username}".\n`);
      });
  }

  users
    .command('set-password')
    .description('Replace a password and end the sessions of the account')
    .requiredOption('--username <username>', 'the account')
    .option(
      '--password-stdin',
      'read the new password from standard input (otherwise one is generated and printed once)',
    )
    .option('--data <dir>', DATA_HELP)
    .action(async (options: DataOption & PasswordOption & { username: string }) => {
      await withStore(options, async (store) => {
        if (store.getUser(options.username) === undefined) throw new Error(`no console user "${options.username}"`);
        const { password, generated } = await passwordOf(options);
        await store.setPassword(options.username, password);
        if (generated) printGenerated(options.username, password);
        process.stderr.write(`Changed the password of "${options.username}"; its sessions are ended.\n`);
      });
    });
}
