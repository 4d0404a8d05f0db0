import { isIP } from 'node:net';

/** Throttling knobs; see ConsoleSettings. */
export interface ThrottlePolicy {
  freeFailures: number;
  maxDelayMs: number;
}

/**
 * How long after the latest failure the next attempt must wait, given `failures` so far: nothing
 * for the first `freeFailures`, then 1 s, 2 s, 4 s, … (2^(n − free) s) up to `maxDelayMs`.
 */
export function throttleDelayMs(failures: number, policy: ThrottlePolicy): number {
  if (failures < policy.freeFailures) return 0;
  const exponent = Math.min(failures - policy.freeFailures, 40);
  return Math.min(2 ** exponent * 1000, policy.maxDelayMs);
}

/** The failure-counter keys of one attempt: one per username and one per client address. */
export function throttleKeys(username: string, ip: string): { user: string; ip: string } {
  // Anything that is not an address shares one bucket, so junk cannot mint fresh counters.
  return { user: `user:${username}`, ip: `ip:${isIP(ip) === 0 ? '?' : ip.toLowerCase()}` };
}
