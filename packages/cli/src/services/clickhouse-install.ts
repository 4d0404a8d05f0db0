import { spawn } from 'node:child_process';
import { ServicesError } from './errors.js';
import { findExecutable } from './executables.js';

function runVisible(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    // Output goes to stderr so stdout stays clean for `eval "$(phi-audit services up)"`.
    const child = spawn(command, args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

/**
 * Returns the path of `clickhouse-server`, installing Debian's package first when it is missing
 * and this process may (root with apt-get). Otherwise fails with what to do instead.
 */
export async function ensureClickHouseInstalled(options: { log: (line: string) => void }): Promise<string> {
  const existing = findExecutable('clickhouse-server');
  if (existing) return existing;
  const apt = findExecutable('apt-get');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!apt || !isRoot) {
    throw new ServicesError(
      'SERVICES_MISSING_DEPENDENCY',
      `clickhouse-server is not installed${apt ? ' (installing it needs root: sudo apt-get install clickhouse-server)' : ''}; ` +
        'install it, or set CLICKHOUSE_URL to a running server, or run `docker compose up`',
    );
  }
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'clickhouse-server']]) {
    options.log(`clickhouse-server is missing: running apt-get ${args.join(' ')}`);
    let code: number | null;
    try {
      code = await runVisible(apt, args);
    } catch (error) {
      throw new ServicesError('SERVICES_INSTALL_FAILED', `apt-get ${args[0]} could not run`, { cause: error });
    }
    if (code !== 0) {
      throw new ServicesError(
        'SERVICES_INSTALL_FAILED',
        `apt-get ${args.join(' ')} failed (exit ${code}); see the output above`,
      );
    }
  }
  const installed = findExecutable('clickhouse-server');
  if (!installed)
    throw new ServicesError('SERVICES_INSTALL_FAILED', 'apt-get finished but clickhouse-server is still missing');
  return installed;
}
