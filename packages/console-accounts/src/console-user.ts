import { z } from 'zod';
import { ConsoleError } from './errors.js';
import { ALL_TENANTS, ROLES, type Role } from './roles.js';

/** Usernames are lower-case workforce identifiers. */
export const USERNAME_PATTERN = /^[a-z0-9._-]{3,64}$/;
/** A tenant id as AccessEvent.tenant allows it; the admin wildcard is checked separately. */
const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A console account as callers see it: never the password hash. */
export const CONSOLE_USER_SCHEMA = z.object({
  username: z.string().regex(USERNAME_PATTERN),
  role: z.enum(ROLES),
  tenants: z.array(z.string()).min(1),
  disabled: z.boolean(),
  createdAt: z.number().int(),
  passwordChangedAt: z.number().int(),
});

export type ConsoleUser = z.infer<typeof CONSOLE_USER_SCHEMA>;

/** Throws CONSOLE_INVALID_USER unless `username` matches USERNAME_PATTERN. */
export function checkUsername(username: string): void {
  if (typeof username !== 'string' || !USERNAME_PATTERN.test(username)) {
    throw new ConsoleError(
      'CONSOLE_INVALID_USER',
      'a username is 3 to 64 characters of a-z, 0-9, dot, underscore or hyphen',
    );
  }
}

/**
 * The tenant list of a new account, de-duplicated and sorted. Throws CONSOLE_INVALID_USER: every
 * account needs at least one tenant (default deny); only an admin may hold `*` (all), and then alone.
 */
export function normalizeTenants(role: Role, tenants: readonly string[]): string[] {
  const unique = [...new Set(tenants)].sort();
  if (unique.length === 0) {
    throw new ConsoleError('CONSOLE_INVALID_USER', 'an account needs at least one tenant');
  }
  if (unique.includes(ALL_TENANTS)) {
    if (role !== 'admin') throw new ConsoleError('CONSOLE_INVALID_USER', `only an admin may hold all tenants (*)`);
    if (unique.length > 1)
      throw new ConsoleError('CONSOLE_INVALID_USER', `* already means every tenant: list no others`);
    return unique;
  }
  for (const t of unique) {
    if (!TENANT_PATTERN.test(t)) {
      throw new ConsoleError(
        'CONSOLE_INVALID_USER',
        'a tenant id is 1 to 63 characters of a-z, 0-9, _ or -, starting with a letter or digit',
      );
    }
  }
  return unique;
}
