import { mkdirSync } from 'node:fs';
import { consoleFileIn, createAccountStore } from '@phi-audit/console-accounts';
import { isEntryPoint, listenForStop, runMain } from '@phi-audit/service-runtime';
import { parseConsoleConfig } from './config.js';
import { buildConsoleApp } from './console-app.js';
import { createConsoleLogger } from './console-logger.js';

/** Error fields safe to log: type and code, never a message that could quote input. */
function summarize(error: unknown): object {
  if (!(error instanceof Error)) return { err: { type: typeof error } };
  const code = (error as { code?: unknown }).code;
  return { err: { type: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message } };
}

/**
 * Cluster mode's console: reads the environment, opens the account store in CONSOLE_DATA_DIR,
 * serves the console API and /docs until SIGTERM or SIGINT, then closes cleanly.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = parseConsoleConfig(env);
  const logger = createConsoleLogger({ level: config.logLevel });
  const stop = listenForStop<Error>({ logger, forcedExitMessage: 'console killed: in-flight requests abandoned' });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const accounts = createAccountStore({ file: consoleFileIn(config.dataDir), logger });
  try {
    const app = await buildConsoleApp({ accounts, logger, trustProxy: config.trustProxy });
    try {
      await app.listen({ host: config.http.host, port: config.http.port });
      logger.info({ host: config.http.host, port: config.http.port, users: accounts.userCount() }, 'console listening');
      const reason = await stop.stopped;
      logger.info(reason.kind === 'signal' ? { signal: reason.signal } : summarize(reason.error), 'console stopping');
    } finally {
      await app.close();
    }
  } finally {
    accounts.close();
    stop.remove();
  }
  logger.info('console stopped');
}

if (isEntryPoint(import.meta.url)) runMain({ service: 'console', main: () => main(), summarize });
