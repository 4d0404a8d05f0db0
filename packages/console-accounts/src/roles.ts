/**
 * Console roles. Access is default-deny: a user sees only the tenants listed on the account
 * (admins may hold `*`, every tenant), and only what the role grants.
 */

export const ROLES = [
  /** Manages console accounts and settings; everything a privacy officer may do. */
  'admin',
  /** Reviews and decides alerts, runs cases, answers patient access requests, exports evidence. */
  'privacy_officer',
  /** Searches the full log of their tenants and exports evidence during an investigation; decides nothing. */
  'investigator',
  /** Read-only: ledger verification, checkpoints and proofs, decisions already taken. No PHI search. */
  'auditor',
] as const;

export type Role = (typeof ROLES)[number];

/** The tenant wildcard: every tenant, now and later. Only admins may hold it. */
export const ALL_TENANTS = '*';

/** True when `value` names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Default deny: true only when the account lists `tenant` (or, for an admin, the wildcard). */
export function mayAccessTenant(user: { role: Role; tenants: readonly string[] }, tenant: string): boolean {
  if (tenant === ALL_TENANTS) return false;
  if (user.tenants.includes(tenant)) return true;
  return user.role === 'admin' && user.tenants.includes(ALL_TENANTS);
}
