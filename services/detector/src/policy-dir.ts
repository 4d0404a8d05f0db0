import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusLogger } from '@phi-audit/bus-kafka';
import { DEFAULT_POLICY, parsePolicy, PolicyError, type Policy } from '@phi-audit/rules';
import { DetectorError } from './errors.js';

/**
 * Detection policies from a directory: `<dir>/<tenant>.json` per tenant (the tenant id
 * url-encoded, so any id makes a file name), `<dir>/default.json` for every other tenant, and
 * DEFAULT_POLICY when neither exists. A missing directory means every tenant uses the default.
 *
 * The engine reads a tenant's time zone and window settings once, when it first sees the
 * tenant: a reloaded policy changes the rules' settings at once, but a changed `timeZone` or
 * `window` applies fully only after a restart.
 */

/** The file holding the policy of every tenant without a file of its own. */
export const DEFAULT_POLICY_FILE = 'default.json';

/** The policy file name of a tenant: its url-encoded id plus `.json`. */
export function policyFileName(tenant: string): string {
  return `${encodeURIComponent(tenant)}.json`;
}

/** The outcome of checking one policy file: the policy, or every problem with its path. */
export type PolicyCheck = { ok: true; policy: Policy } | { ok: false; problems: readonly string[] };

/** Reads and validates one policy file, reporting every problem at once (never throws). */
export function checkPolicyFile(file: string): PolicyCheck {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`(file): cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  try {
    return { ok: true, policy: parsePolicy(text) };
  } catch (error) {
    if (error instanceof PolicyError) return { ok: false, problems: error.problems };
    throw error;
  }
}

export interface PolicyDirOptions {
  /** The directory; undefined = every tenant gets DEFAULT_POLICY. */
  dir: string | undefined;
  logger: BusLogger;
}

/** The policies of a directory, as last loaded. */
export interface PolicyDir {
  readonly dir: string | undefined;
  /** The tenant's policy: its own file's, else default.json's, else DEFAULT_POLICY. Cached, not re-parsed. */
  policyFor(tenant: string): Policy;
  /**
   * Re-reads the directory. A file that became invalid keeps its previous policy (logged with
   * its problems); a removed file falls back to the default. Never throws.
   */
  reload(): void;
}

interface Loaded {
  text: string;
  policy: Policy;
}

interface Scan {
  /** Key: tenant id, or undefined for default.json. */
  files: Map<string | undefined, { file: string; text: string | undefined; problems: readonly string[] }>;
  problems: string[];
}

function scanDir(dir: string): Scan {
  const scan: Scan = { files: new Map(), problems: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return scan;
    scan.problems.push(`${dir}: cannot list the policy directory (${(error as NodeJS.ErrnoException).code})`);
    return scan;
  }
  for (const name of names.sort()) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    let tenant: string | undefined;
    if (name === DEFAULT_POLICY_FILE) tenant = undefined;
    else {
      try {
        tenant = decodeURIComponent(name.slice(0, -'.json'.length));
      } catch {
        scan.problems.push(`${file}: the file name is not a url-encoded tenant id`);
        continue;
      }
    }
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      scan.files.set(tenant, {
        file,
        text: undefined,
        problems: [`cannot read it (${(error as NodeJS.ErrnoException).code})`],
      });
      continue;
    }
    scan.files.set(tenant, { file, text, problems: [] });
  }
  return scan;
}

/**
 * Loads every policy of `dir`. Throws DETECTOR_POLICY_INVALID naming each bad file and all of
 * its problems: a detector must not start on a policy it cannot read.
 */
export function loadPolicyDir(options: PolicyDirOptions): PolicyDir {
  const { dir, logger } = options;
  let policies = new Map<string | undefined, Loaded>();

  function load(initial: boolean): void {
    if (dir === undefined) return;
    const scan = scanDir(dir);
    const problems = [...scan.problems];
    const next = new Map<string | undefined, Loaded>();
    for (const [tenant, entry] of scan.files) {
      const previous = policies.get(tenant);
      if (entry.text !== undefined && previous?.text === entry.text) {
        next.set(tenant, previous);
        continue;
      }
      let entryProblems = entry.problems;
      if (entry.text !== undefined) {
        try {
          next.set(tenant, { text: entry.text, policy: parsePolicy(entry.text) });
          if (!initial)
            logger.info({ file: entry.file }, 'policy reloaded (time zone and window changes apply after a restart)');
          continue;
        } catch (error) {
          if (!(error instanceof PolicyError)) throw error;
          entryProblems = error.problems;
        }
      }
      problems.push(...entryProblems.map((p) => `${entry.file}: ${p}`));
      if (!initial) {
        logger.warn(
          { file: entry.file, problems: entryProblems },
          previous ? 'invalid policy file; keeping the previous policy' : 'invalid policy file; the default applies',
        );
        if (previous) next.set(tenant, previous);
      }
    }
    if (initial && problems.length > 0) {
      throw new DetectorError(
        'DETECTOR_POLICY_INVALID',
        `invalid detection policy:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }
    if (!initial) for (const p of scan.problems) logger.warn({ problem: p }, 'policy directory problem');
    policies = next;
  }

  load(true);
  logger.info({ dir: dir ?? '(none)', files: policies.size }, 'detection policies loaded');
  return {
    dir,
    policyFor: (tenant) => (policies.get(tenant) ?? policies.get(undefined))?.policy ?? DEFAULT_POLICY,
    reload() {
      try {
        load(false);
      } catch (error) {
        logger.error({ dir, errorName: (error as Error).name }, 'policy reload failed; keeping the loaded policies');
      }
    },
  };
}
