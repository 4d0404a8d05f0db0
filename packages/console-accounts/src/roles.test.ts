import { describe, expect, it } from 'vitest';
import { isRole, mayAccessTenant, ROLES } from './roles.js';

describe('roles and tenant scope', () => {
  it('knows exactly the four console roles', () => {
    expect(ROLES).toEqual(['admin', 'privacy_officer', 'investigator', 'auditor']);
    expect(isRole('auditor')).toBe(true);
    expect(isRole('root')).toBe(false);
  });

  it('denies every tenant the account does not list', () => {
    const po = { role: 'privacy_officer' as const, tenants: ['clinic-a'] };
    expect(mayAccessTenant(po, 'clinic-a')).toBe(true);
    expect(mayAccessTenant(po, 'clinic-b')).toBe(false);
    expect(mayAccessTenant(po, '*')).toBe(false);
    expect(mayAccessTenant({ role: 'admin', tenants: ['*'] }, 'clinic-b')).toBe(true);
    // The wildcard means nothing on a non-admin account, should one ever be stored.
    expect(mayAccessTenant({ role: 'auditor', tenants: ['*'] }, 'clinic-b')).toBe(false);
  });
});
