import { get, post, request, rememberCsrf } from './api.js';

/**
 * Who is logged in, what their role may do, and which tenant (practice) they are looking at.
 * The UI hides what the role cannot do; the API enforces it regardless.
 */

export type Role = 'admin' | 'privacy_officer' | 'investigator' | 'auditor';

export interface Me {
  username: string;
  role: Role;
  tenants: string[];
  expiresAt: string;
}

/** Role names as an office manager would say them. */
export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Administrator',
  privacy_officer: 'Privacy officer',
  investigator: 'Investigator',
  auditor: 'Auditor',
};

/** What each role may do, mirroring the API's route access (routes/*.ts). */
export const CAN = {
  readAlerts: (r: Role) => r === 'privacy_officer' || r === 'investigator' || r === 'admin',
  decide: (r: Role) => r === 'privacy_officer' || r === 'admin',
  search: (r: Role) => r === 'privacy_officer' || r === 'investigator' || r === 'admin',
  report: (r: Role) => r === 'privacy_officer' || r === 'admin',
  any: () => true,
} as const;

const TENANT_KEY = 'phi-audit.tenant';

/** The tenant in view: the remembered one if the user still holds it, else their first. */
export function currentTenant(me: Me): string {
  const saved = sessionStorage.getItem(TENANT_KEY);
  if (me.tenants.includes('*')) return saved ?? '';
  if (saved !== null && me.tenants.includes(saved)) return saved;
  return me.tenants[0] ?? '';
}

export function chooseTenant(tenant: string): void {
  sessionStorage.setItem(TENANT_KEY, tenant);
}

/** The current session, or undefined when there is none (401). */
export async function loadSession(): Promise<Me | undefined> {
  const response = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) return undefined;
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  return (await response.json()) as Me;
}

export async function login(username: string, password: string): Promise<Me> {
  const result = await post<Me & { csrfToken: string }>('/api/session', { username, password });
  rememberCsrf(result.csrfToken);
  const { csrfToken: _csrf, ...me } = result;
  return me;
}

export async function logout(): Promise<void> {
  try {
    await request<void>('DELETE', '/api/session');
  } finally {
    rememberCsrf(undefined);
  }
}

export const tenantsOf = () => get<{ tenants: string[] }>('/api/tenants');
