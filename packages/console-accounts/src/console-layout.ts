import { join } from 'node:path';

/** The console accounts database inside an embedded data directory: its own file, apart from the ledger. */
export const CONSOLE_FILE = 'console.sqlite';

/** Path of the console accounts database of data directory `dir`. */
export function consoleFileIn(dir: string): string {
  return join(dir, CONSOLE_FILE);
}
