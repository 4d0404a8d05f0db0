import { freePort, runCli, startCli, waitFor, type CliProcess } from './processes.js';

/** A running `phi-audit start` (embedded mode) and where it listens. */
export interface EmbeddedCli {
  readonly process: CliProcess;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
}

export interface StartEmbeddedCliOptions {
  dataDir: string;
  /** Variables on top of PORT and PHI_AUDIT_DATA_DIR (LOG_LEVEL, CHECKPOINT_INTERVAL_SECONDS, …). */
  env?: Record<string, string>;
  /** Default: a free port. Pass the previous one to restart on the same URL. */
  port?: number;
  readyTimeoutMs?: number;
}

/** Starts `phi-audit start` on `dataDir` and resolves once /readyz answers 200. */
export async function startEmbeddedCli(options: StartEmbeddedCliOptions): Promise<EmbeddedCli> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const cli = startCli(['start'], { ...options.env, PORT: String(port), PHI_AUDIT_DATA_DIR: options.dataDir });
  await waitFor(
    `phi-audit start\n${cli.output()}`,
    async () => (await fetch(`${url}/readyz`)).ok,
    options.readyTimeoutMs ?? 30_000,
  );
  return { process: cli, port, url };
}

/** The key a `phi-audit keys create` run printed on a line of its own, if any. */
export function keyFromOutput(output: string): string | undefined {
  return /^(phia_\S+)$/m.exec(output)?.[1];
}

/**
 * Creates a key with `phi-audit keys create --data <dataDir> <args>` (e.g. `--tenant t --source s`)
 * and returns it; throws with the command's output when it fails or prints no key.
 */
export async function createKeyWithCli(dataDir: string, ...args: string[]): Promise<string> {
  const created = await runCli(['keys', 'create', '--data', dataDir, ...args]);
  const key = keyFromOutput(created.output);
  if (created.code !== 0 || key === undefined) {
    throw new Error(`phi-audit keys create exited ${String(created.code)}:\n${created.output}`);
  }
  return key;
}
