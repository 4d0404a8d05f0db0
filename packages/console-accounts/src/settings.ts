import { z } from 'zod';
import { DEFAULT_SCRYPT } from './password-hash.js';

const MINUTE = 60_000;
const positiveMs = z.number().int().positive();

/** Session and login-throttling settings; every field has a default. */
export const CONSOLE_SETTINGS_SCHEMA = z
  .object({
    /** A session unused this long ends (sliding: each use restarts the clock). */
    idleTimeoutMs: positiveMs.default(15 * MINUTE),
    /** A session ends this long after login however busy it is. */
    absoluteTimeoutMs: positiveMs.default(8 * 60 * MINUTE),
    /** Failures per username or per address before attempts are delayed. */
    throttleFreeFailures: z.number().int().min(1).default(5),
    /** The longest delay between attempts. */
    throttleMaxDelayMs: positiveMs.default(15 * MINUTE),
    /** A failure counter untouched this long is forgotten (so an office's occasional typos never add up to a lockout). */
    failureMemoryMs: positiveMs.default(24 * 60 * MINUTE),
    /** scrypt parameters for new hashes; older hashes are upgraded at the next successful login. */
    scrypt: z
      .object({ N: z.number().int().min(1024), r: z.number().int().min(1), p: z.number().int().min(1) })
      .default({ ...DEFAULT_SCRYPT }),
  })
  .strict();

export type ConsoleSettings = z.infer<typeof CONSOLE_SETTINGS_SCHEMA>;
export type ConsoleSettingsInput = z.input<typeof CONSOLE_SETTINGS_SCHEMA>;
