import type { Logger } from 'pino';
import type { ConsoleUser } from './console-user.js';
import type { Role } from './roles.js';
import type { ConsoleSettingsInput } from './settings.js';

/* The contract of the console account store; createAccountStore (account-store.ts) implements it. */

export interface AccountStoreOptions {
  /** The SQLite file; created (mode 0600) if missing. */
  file: string;
  logger?: Logger;
  /** Milliseconds since the epoch; injectable so tests can move time. Default Date.now. */
  now?: () => number;
  settings?: ConsoleSettingsInput;
}

export interface NewUser {
  username: string;
  role: Role;
  /** At least one tenant; an admin may hold ['*'] (every tenant). */
  tenants: readonly string[];
  password: string;
}

export type LoginResult =
  | { ok: true; session: { token: string; csrfToken: string; expiresAt: number }; user: ConsoleUser }
  | { ok: false; reason: 'invalid' | 'throttled' | 'disabled'; retryAfterMs?: number };

/** A live session, as session(token) returns it. */
export interface ConsoleSession {
  user: ConsoleUser;
  createdAt: number;
  lastSeenAt: number;
  /** When it ends if unused: the earlier of the idle and the absolute deadline. */
  expiresAt: number;
  /** Constant-time check of the CSRF token issued with this session. */
  checkCsrf(csrfToken: string): boolean;
}

export interface AccountStore {
  /** Creates an account. Throws CONSOLE_INVALID_USER, CONSOLE_WEAK_PASSWORD, CONSOLE_USER_EXISTS, CONSOLE_ADMIN_REQUIRED. */
  createUser(user: NewUser): Promise<ConsoleUser>;
  /** Replaces the password and ends every session of the user. Throws CONSOLE_UNKNOWN_USER, CONSOLE_WEAK_PASSWORD. */
  setPassword(username: string, password: string): Promise<void>;
  /** Disables or re-enables an account and ends its sessions. Throws CONSOLE_UNKNOWN_USER, CONSOLE_LAST_ADMIN. */
  setDisabled(username: string, disabled: boolean): void;
  getUser(username: string): ConsoleUser | undefined;
  /** Every account, by username; never a hash. */
  listUsers(): ConsoleUser[];
  userCount(): number;
  /** Checks a password, throttled per username and per client address; on success opens a session. */
  login(attempt: { username: string; password: string; ip: string }): Promise<LoginResult>;
  /** The live session of `token`, or undefined (unknown, revoked, idle or absolute timeout, user disabled). Slides the idle timeout. */
  session(token: string): ConsoleSession | undefined;
  /** True when `token` is a live session and `csrfToken` is its CSRF token. Does not slide the idle timeout. */
  checkCsrf(token: string, csrfToken: string): boolean;
  logout(token: string): void;
  /** Ends every session of `username`; returns how many were live. */
  revokeAll(username: string): number;
  close(): void;
}
