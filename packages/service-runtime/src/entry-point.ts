import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** True when the module at `moduleUrl` (its import.meta.url) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

export interface RunMainOptions {
  /** The service name in the failure line. */
  service: string;
  main: () => Promise<void>;
  /** Error fields safe to log (no PHI, no secrets), e.g. bus-kafka's errorSummary. */
  summarize: (err: unknown) => object;
}

/** Runs a service's main: exit 0 when it resolves, one fatal JSON line on stderr and exit 1 when it rejects. */
export function runMain(options: RunMainOptions): void {
  const { service, main, summarize } = options;
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      // The logger may not exist (bad configuration): write one JSON line without PHI or secrets.
      process.stderr.write(
        `${JSON.stringify({ level: 'fatal', service, msg: `${service} failed`, ...summarize(err) })}\n`,
      );
      process.exit(1);
    },
  );
}
