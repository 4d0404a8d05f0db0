/**
 * Versioned schema of the console accounts database, applied in order, each once, each in its own
 * transaction with its row in `schema_migrations`. Never edit a released migration: add one.
 */
export interface ConsoleMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const CONSOLE_MIGRATIONS: readonly ConsoleMigration[] = [
  {
    version: 1,
    name: 'users, sessions and login_failures',
    statements: [
      `CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'privacy_officer', 'investigator', 'auditor')),
    tenants TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
) STRICT`,
      `CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    csrf_token_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT`,
      'CREATE INDEX sessions_by_username ON sessions (username)',
      `CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at INTEGER NOT NULL
) STRICT`,
    ],
  },
];
