/**
 * The console API as the UI calls it: same-origin fetch with the session cookie (HttpOnly, set
 * by POST /api/session), the CSRF token returned at login sent in x-csrf-token on every unsafe
 * method, and error answers turned into ApiError with the API's own message. A 401 (session
 * ended) and a missing CSRF token in this tab (GET /api/session never returns it) both send the
 * user to the login view through `onLoginNeeded`.
 */

const CSRF_KEY = 'phi-audit.csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** An error answer of the API (or a network failure: status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | readonly string[] | undefined | null;

/** `?a=1&b=2` from the non-empty values, or '' when there are none. */
export function queryString(query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v);
    else params.set(key, String(value));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

/** `/api/tenants/<tenant>` + rest, the tenant id encoded. */
export function tenantPath(tenant: string, rest: string): string {
  return `/api/tenants/${encodeURIComponent(tenant)}${rest}`;
}

let loginNeeded: (message: string) => void = () => undefined;

/** What to do when the API says the session has ended (main.ts shows the login view). */
export function onLoginNeeded(handler: (message: string) => void): void {
  loginNeeded = handler;
}

/** Kept per browser tab, so a reload keeps working; cleared at logout. */
export function rememberCsrf(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(CSRF_KEY);
  else sessionStorage.setItem(CSRF_KEY, token);
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = `the server answered ${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, code, message);
}

/**
 * Calls the API. `path` starts with `/api/`. Resolves to the parsed JSON body (undefined for
 * 204); rejects with ApiError.
 */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (UNSAFE.has(method) && csrf !== null) headers['x-csrf-token'] = csrf;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the console server cannot be reached; check that phi-audit is running');
  }
  if (!response.ok) {
    const error = await errorOf(response);
    const isLogin = method === 'POST' && path === '/api/session';
    if (response.status === 401 && !isLogin) loginNeeded('Your session has ended. Please log in again.');
    if (error.code === 'CONSOLE_CSRF') loginNeeded('Please log in again in this tab to make changes.');
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Record<string, QueryValue>): Promise<T> =>
  request<T>('GET', path + queryString(query));
export const post = <T>(path: string, body: unknown): Promise<T> => request<T>('POST', path, body);
