/**
 * Console accounts and sessions on their own SQLite file (embedded: `<data dir>/console.sqlite`).
 * Stores only hashes: scrypt for passwords, SHA-256 for session and CSRF tokens, so a copy of the
 * file yields no usable credential. Logs outcomes and counts; usernames (workforce identifiers)
 * only at debug; never passwords, tokens or hashes.
 */

import type Database from 'better-sqlite3';
import { pino } from 'pino';
import {
  checkUsername,
  CONSOLE_USER_SCHEMA,
  normalizeTenants,
  USERNAME_PATTERN,
  type ConsoleUser,
} from './console-user.js';
import { ConsoleError, isConsoleError } from './errors.js';
import { throttleDelayMs, throttleKeys } from './login-throttle.js';
import { openConsoleDatabase } from './open-console-database.js';
import { hashPassword, needsRehash, verifyPassword } from './password-hash.js';
import { checkPasswordPolicy, PASSWORD_MAX_LENGTH } from './password-policy.js';
import { isRole, ROLES } from './roles.js';
import { newToken, tokenHash, tokenMatches } from './secret-token.js';
import { CONSOLE_SETTINGS_SCHEMA, type ConsoleSettings } from './settings.js';
import type { AccountStore, AccountStoreOptions } from './account-store-api.js';

interface UserRow {
  username: string;
  role: string;
  tenants: string;
  password_hash: string;
  disabled: number;
  created_at: number;
  password_changed_at: number;
}

interface SessionRow {
  username: string;
  csrf_token_hash: string;
  created_at: number;
  last_seen_at: number;
  revoked: number;
}

const USER_COLUMNS = 'username, role, tenants, password_hash, disabled, created_at, password_changed_at';

function toUser(row: UserRow): ConsoleUser {
  let tenants: unknown;
  try {
    tenants = JSON.parse(row.tenants);
  } catch {
    tenants = undefined;
  }
  const parsed = CONSOLE_USER_SCHEMA.safeParse({
    username: row.username,
    role: row.role,
    tenants,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    passwordChangedAt: row.password_changed_at,
  });
  if (!parsed.success) throw new ConsoleError('CONSOLE_CORRUPT_DATA', 'a stored console account is malformed');
  return parsed.data;
}

/** Opens (creating and migrating) the console accounts database at `options.file`. */
export function createAccountStore(options: AccountStoreOptions): AccountStore {
  const settingsResult = CONSOLE_SETTINGS_SCHEMA.safeParse(options.settings ?? {});
  if (!settingsResult.success) {
    throw new ConsoleError('CONSOLE_INVALID_OPTIONS', `invalid console settings: ${settingsResult.error.message}`);
  }
  const settings: ConsoleSettings = settingsResult.data;
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'console-accounts' });
  const now = options.now ?? Date.now;
  const db: Database.Database = openConsoleDatabase(options.file, logger);
  let closed = false;

  const q = {
    user: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`),
    users: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY username`),
    count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users'),
    enabledAdmins: db.prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0",
    ),
    insertUser: db.prepare(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, 0, ?, ?)`),
    setHash: db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?'),
    rehash: db.prepare('UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?'),
    setDisabled: db.prepare('UPDATE users SET disabled = ? WHERE username = ?'),
    session: db.prepare<[string], SessionRow>(
      'SELECT username, csrf_token_hash, created_at, last_seen_at, revoked FROM sessions WHERE id_hash = ?',
    ),
    insertSession: db.prepare(
      'INSERT INTO sessions (id_hash, username, csrf_token_hash, created_at, last_seen_at, revoked) VALUES (?, ?, ?, ?, ?, 0)',
    ),
    touchSession: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
    revokeSession: db.prepare('UPDATE sessions SET revoked = 1 WHERE id_hash = ?'),
    revokeAll: db.prepare('UPDATE sessions SET revoked = 1 WHERE username = ? AND revoked = 0'),
    purgeSessions: db.prepare('DELETE FROM sessions WHERE revoked = 1 OR last_seen_at <= ? OR created_at <= ?'),
    failure: db.prepare<[string], { count: number; last_at: number }>(
      'SELECT count, last_at FROM login_failures WHERE key = ?',
    ),
    upsertFailure: db.prepare(
      'INSERT INTO login_failures (key, count, last_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at',
    ),
    clearFailures: db.prepare('DELETE FROM login_failures WHERE key = ?'),
    purgeFailures: db.prepare('DELETE FROM login_failures WHERE last_at <= ?'),
  };

  // Unknown usernames are checked against this so they cost the same scrypt time as real ones.
  let dummyHash: Promise<string> | undefined;
  const dummy = (): Promise<string> => (dummyHash ??= hashPassword(newToken(), settings.scrypt));

  function open(): void {
    if (closed) throw new ConsoleError('CONSOLE_CLOSED', 'the console account store is closed');
  }

  function existing(username: string): UserRow {
    const row = q.user.get(username);
    if (row === undefined) throw new ConsoleError('CONSOLE_UNKNOWN_USER', `no console user "${username}"`);
    return row;
  }

  /** Failures on `key` still remembered at `at` (0 when forgotten). */
  function failuresOf(key: string, at: number): { count: number; lastAt: number } {
    const row = q.failure.get(key);
    if (row === undefined || at - row.last_at >= settings.failureMemoryMs) return { count: 0, lastAt: 0 };
    return { count: row.count, lastAt: row.last_at };
  }

  function retryAfterMs(keys: readonly string[], at: number): number {
    const policy = { freeFailures: settings.throttleFreeFailures, maxDelayMs: settings.throttleMaxDelayMs };
    let wait = 0;
    for (const key of keys) {
      const { count, lastAt } = failuresOf(key, at);
      wait = Math.max(wait, lastAt + throttleDelayMs(count, policy) - at);
    }
    return wait;
  }

  const recordFailure = db.transaction((keys: readonly string[], at: number) => {
    for (const key of keys) q.upsertFailure.run(key, failuresOf(key, at).count + 1, at);
    q.purgeFailures.run(at - settings.failureMemoryMs);
  });

  const revokeAll = (username: string): number => q.revokeAll.run(username).changes;

  /** The session row of `token` if it is live at `at`, with its user. */
  function live(token: string, at: number): { row: SessionRow; user: ConsoleUser; idHash: string } | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > 256) return undefined;
    const idHash = tokenHash(token);
    const row = q.session.get(idHash);
    if (row === undefined || row.revoked === 1) return undefined;
    if (at - row.last_seen_at >= settings.idleTimeoutMs || at - row.created_at >= settings.absoluteTimeoutMs) {
      return undefined;
    }
    const userRow = q.user.get(row.username);
    if (userRow === undefined || userRow.disabled === 1) return undefined;
    return { row, user: toUser(userRow), idHash };
  }

  const expiry = (createdAt: number, lastSeenAt: number): number =>
    Math.min(lastSeenAt + settings.idleTimeoutMs, createdAt + settings.absoluteTimeoutMs);

  return {
    async createUser(user) {
      open();
      checkUsername(user.username);
      if (!isRole(user.role)) {
        throw new ConsoleError('CONSOLE_INVALID_USER', `a role is one of ${ROLES.join(', ')}`);
      }
      const tenants = normalizeTenants(user.role, user.tenants);
      checkPasswordPolicy(user.password, user.username);
      if (q.user.get(user.username) !== undefined) {
        throw new ConsoleError('CONSOLE_USER_EXISTS', `console user "${user.username}" already exists`);
      }
      const hash = await hashPassword(user.password, settings.scrypt);
      open();
      const at = now();
      db.transaction(() => {
        // Checked under the write lock: someone must be able to manage the accounts that follow.
        if (q.count.get()?.n === 0 && user.role !== 'admin') {
          throw new ConsoleError(
            'CONSOLE_ADMIN_REQUIRED',
            'the first console user must be an admin: create the admin first',
          );
        }
        if (q.user.get(user.username) !== undefined) {
          throw new ConsoleError('CONSOLE_USER_EXISTS', `console user "${user.username}" already exists`);
        }
        q.insertUser.run(user.username, user.role, JSON.stringify(tenants), hash, at, at);
      }).immediate();
      logger.info({ role: user.role, tenants: tenants.length }, 'console user created');
      logger.debug({ username: user.username }, 'console user created');
      return toUser(existing(user.username));
    },

    async setPassword(username, password) {
      open();
      existing(username);
      checkPasswordPolicy(password, username);
      const hash = await hashPassword(password, settings.scrypt);
      open();
      const revoked = db.transaction(() => {
        if (q.setHash.run(hash, now(), username).changes === 0) {
          throw new ConsoleError('CONSOLE_UNKNOWN_USER', `no console user "${username}"`);
        }
        return revokeAll(username);
      })();
      logger.info({ revokedSessions: revoked }, 'console password changed');
      logger.debug({ username }, 'console password changed');
    },

    setDisabled(username, disabled) {
      open();
      const revoked = db
        .transaction(() => {
          const row = existing(username);
          if (disabled && row.role === 'admin' && row.disabled === 0 && q.enabledAdmins.get()?.n === 1) {
            throw new ConsoleError(
              'CONSOLE_LAST_ADMIN',
              'cannot disable the last enabled admin: create another admin first',
            );
          }
          q.setDisabled.run(disabled ? 1 : 0, username);
          return revokeAll(username);
        })
        .immediate();
      logger.info({ disabled, revokedSessions: revoked }, 'console user updated');
      logger.debug({ username, disabled }, 'console user updated');
    },

    getUser(username) {
      open();
      const row = q.user.get(username);
      return row === undefined ? undefined : toUser(row);
    },

    listUsers() {
      open();
      return q.users.all().map(toUser);
    },

    userCount() {
      open();
      return q.count.get()?.n ?? 0;
    },

    async login({ username, password, ip }) {
      open();
      const name = typeof username === 'string' ? username.toLowerCase() : '';
      const validName = USERNAME_PATTERN.test(name);
      const keys = throttleKeys(validName ? name : '?', typeof ip === 'string' ? ip : '');
      const throttled = retryAfterMs([keys.user, keys.ip], now());
      if (throttled > 0) {
        logger.info({ outcome: 'throttled', retryAfterMs: throttled }, 'console login');
        return { ok: false, reason: 'throttled', retryAfterMs: throttled };
      }
      const row = validName ? q.user.get(name) : undefined;
      // Oversized input is refused without feeding it to scrypt, but after the same work.
      const usable = typeof password === 'string' && password.length <= 4 * PASSWORD_MAX_LENGTH;
      const storedHash = row?.password_hash ?? (await dummy());
      let matches = false;
      try {
        matches = await verifyPassword(usable ? password : '', storedHash);
      } catch (err) {
        if (!isConsoleError(err, 'CONSOLE_BAD_HASH')) throw err;
        logger.error({ code: err.code }, 'a stored console password hash is unreadable');
      }
      open();
      const at = now();
      // The account may have changed while scrypt ran: only the hash we checked counts.
      const current = row === undefined ? undefined : q.user.get(row.username);
      if (!usable || !matches || current === undefined || current.password_hash !== storedHash) {
        recordFailure([keys.user, keys.ip], at);
        logger.info({ outcome: 'invalid' }, 'console login');
        logger.debug({ username: validName ? name : undefined }, 'console login failed');
        return { ok: false, reason: 'invalid' };
      }
      if (current.disabled === 1) {
        logger.info({ outcome: 'disabled' }, 'console login');
        return { ok: false, reason: 'disabled' };
      }
      q.clearFailures.run(keys.user);
      if (needsRehash(storedHash, settings.scrypt)) {
        q.rehash.run(await hashPassword(password, settings.scrypt), current.username, storedHash);
        open();
      }
      const token = newToken();
      const csrfToken = newToken();
      const opened = now();
      db.transaction(() => {
        q.purgeSessions.run(opened - settings.idleTimeoutMs, opened - settings.absoluteTimeoutMs);
        q.insertSession.run(tokenHash(token), current.username, tokenHash(csrfToken), opened, opened);
      })();
      logger.info({ outcome: 'ok', role: current.role }, 'console login');
      logger.debug({ username: current.username }, 'console login');
      return {
        ok: true,
        session: { token, csrfToken, expiresAt: expiry(opened, opened) },
        user: toUser(current),
      };
    },

    session(token) {
      open();
      const at = now();
      const found = live(token, at);
      if (found === undefined) return undefined;
      q.touchSession.run(at, found.idHash);
      const csrfHash = found.row.csrf_token_hash;
      return {
        user: found.user,
        createdAt: found.row.created_at,
        lastSeenAt: at,
        expiresAt: expiry(found.row.created_at, at),
        checkCsrf: (csrfToken: string) => typeof csrfToken === 'string' && tokenMatches(csrfToken, csrfHash),
      };
    },

    checkCsrf(token, csrfToken) {
      open();
      const found = live(token, now());
      return found !== undefined && typeof csrfToken === 'string' && tokenMatches(csrfToken, found.row.csrf_token_hash);
    },

    logout(token) {
      open();
      if (typeof token !== 'string' || token.length === 0 || token.length > 256) return;
      q.revokeSession.run(tokenHash(token));
    },

    revokeAll(username) {
      open();
      const n = revokeAll(username);
      logger.info({ revokedSessions: n }, 'console sessions revoked');
      return n;
    },

    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
