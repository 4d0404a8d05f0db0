import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { ConsoleError, isConsoleError } from './errors.js';
import { CONSOLE_MIGRATIONS } from './migrations.js';

/*
 * A small mirror of store-sqlite's openDatabase (not exported there): the console file has the
 * same durability and permission needs but must not depend on the ledger store.
 */

const BUSY_TIMEOUT_MS = 5_000;

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/**
 * Opens (creating with mode 0600 in a 0700 directory) the console accounts database: WAL,
 * synchronous=FULL, pending migrations applied. Throws CONSOLE_OPEN_FAILED or CONSOLE_SCHEMA_TOO_NEW.
 */
export function openConsoleDatabase(file: string, logger: Logger): Database.Database {
  let db: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const created = !existsSync(file);
    db = new Database(file);
    // It holds password hashes and session hashes: owner only.
    if (created) chmodSync(file, 0o600);
  } catch (err) {
    throw new ConsoleError('CONSOLE_OPEN_FAILED', `cannot open the console database ${file}${codeOf(err)}`, {
      cause: err,
    });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new ConsoleError('CONSOLE_OPEN_FAILED', `${file} cannot use WAL`);
    // A password change or revocation must survive a crash once acknowledged.
    db.pragma('synchronous = FULL');
    migrate(db, logger);
    return db;
  } catch (err) {
    db.close();
    if (isConsoleError(err)) throw err;
    throw new ConsoleError('CONSOLE_OPEN_FAILED', `cannot open the console database ${file}${codeOf(err)}`, {
      cause: err,
    });
  }
}

function migrate(db: Database.Database, logger: Logger): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_ms INTEGER NOT NULL
) STRICT`);
  const applied = (): number[] =>
    db
      .prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      .all()
      .map((r) => r.version);
  const known = new Set(CONSOLE_MIGRATIONS.map((m) => m.version));
  const unknown = applied().filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new ConsoleError(
      'CONSOLE_SCHEMA_TOO_NEW',
      `console database ${db.name} has schema migrations ${unknown.join(', ')} that this version does not know; upgrade phi-audit`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)');
  for (const migration of CONSOLE_MIGRATIONS) {
    const ran = db
      .transaction(() => {
        // Re-read under the write lock: another process may have migrated meanwhile.
        if (applied().includes(migration.version)) return false;
        for (const statement of migration.statements) db.exec(statement);
        record.run(migration.version, migration.name, Date.now());
        return true;
      })
      .immediate();
    if (ran) logger.info({ kind: 'console', version: migration.version }, 'applied schema migration');
  }
}
