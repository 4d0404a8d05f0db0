import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${REPO_ROOT}packages/cli/dist/bin.js`;

/** A free TCP port on loopback (bound then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A `phi-audit` child process as a user runs it, with its output kept for diagnosis. */
export interface CliProcess {
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait. */
  kill9(): Promise<void>;
  /**
   * SIGTERM; if the process has not exited after `graceMs`, a second SIGTERM (our services exit 1
   * at once on it), then SIGKILL 5 s later. Resolves to the exit code, null when killed. For
   * teardown, so one stuck shutdown cannot hang a suite; tests that check clean shutdown use stop().
   */
  stopWithin(graceMs: number): Promise<number | null>;
  exited(): Promise<number | null>;
}

/** Starts `node packages/cli/dist/bin.js <args>` with `env` on top of the test's environment. */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited: () => exit,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exit;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
    async stopWithin(graceMs) {
      const running = () => child.exitCode === null && child.signalCode === null;
      if (running()) child.kill('SIGTERM');
      const within = (ms: number) =>
        Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      if (await within(graceMs)) return exit;
      process.stderr.write(
        `harness: ${args.join(' ')} did not stop within ${graceMs} ms of SIGTERM; signalling again\n`,
      );
      if (running()) child.kill('SIGTERM');
      if (await within(5_000)) return exit;
      if (running()) child.kill('SIGKILL');
      return exit;
    },
  };
}

/** Runs a `phi-audit` command to completion. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const p = startCli(args, env);
  const code = await p.exited();
  return { code, output: p.output() };
}

/** Polls `probe` until it returns true or the deadline passes. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`, { cause: lastError });
}
