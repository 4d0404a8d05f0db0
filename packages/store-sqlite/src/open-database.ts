import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { isStoreError, sqliteErrorCode, StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import * as sql from './statements.js';

/** How long a connection waits for another one's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

export interface OpenDatabaseOptions {
  file: string;
  logger: Logger;
  maxPageCount?: number | undefined;
  readonly: boolean;
  /** What the file holds, for messages: `ledger` (default) or `detection`. */
  kind?: string;
  /** The schema migrations of this kind of file. Default: the ledger's. */
  migrations?: readonly Migration[];
}

function validate(options: OpenDatabaseOptions): void {
  if (typeof options.file !== 'string' || options.file.length === 0 || !options.file.isWellFormed()) {
    throw new StoreError('STORE_INVALID_OPTIONS', 'file must be a non-empty path');
  }
  const max = options.maxPageCount;
  if (max !== undefined && (!Number.isSafeInteger(max) || max <= 0)) {
    throw new StoreError('STORE_INVALID_OPTIONS', 'maxPageCount must be a positive whole number of pages');
  }
}

/**
 * Opens a database (the ledger unless `kind` and `migrations` say otherwise): pragmas (WAL,
 * synchronous=FULL, busy timeout, optional max_page_count), then migrations — or, read-only, a
 * check that the schema is exactly the one this build knows. A new file is created with mode 0600: it holds PHI.
 * Throws STORE_OPEN_FAILED, STORE_SCHEMA_TOO_NEW, STORE_SCHEMA_OUTDATED or STORE_MIGRATION_FAILED.
 */
export function openDatabase(options: OpenDatabaseOptions): Database.Database {
  validate(options);
  const { file, logger, readonly } = options;
  const schema: Schema = { kind: options.kind ?? 'ledger', migrations: options.migrations ?? MIGRATIONS };
  let db: Database.Database;
  try {
    let created = false;
    if (!readonly) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      created = !existsSync(file);
    }
    db = new Database(file, { readonly, fileMustExist: readonly });
    if (created) chmodSync(file, 0o600);
  } catch (err) {
    const what =
      readonly && !existsSync(file) ? `no ${schema.kind} database at` : `cannot open the ${schema.kind} database`;
    throw new StoreError('STORE_OPEN_FAILED', `${what} ${file}${codeSuffix(err)}`, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!readonly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal')
        throw new StoreError('STORE_OPEN_FAILED', `${file} cannot use WAL (journal mode ${String(mode)})`);
      // Durable on commit: embedded ingest answers 2xx only after the transaction is on disk.
      db.pragma('synchronous = FULL');
      if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${options.maxPageCount}`);
      migrate(db, logger, schema);
    } else {
      checkSchema(db, file, schema);
    }
    return db;
  } catch (err) {
    db.close();
    if (isStoreError(err)) throw err;
    throw new StoreError('STORE_OPEN_FAILED', `cannot open the ${schema.kind} database ${file}${codeSuffix(err)}`, {
      cause: err,
    });
  }
}

function codeSuffix(err: unknown): string {
  const code = sqliteErrorCode(err) ?? (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

function appliedVersions(db: Database.Database): number[] {
  return db
    .prepare<[], { version: number }>(sql.SELECT_APPLIED_MIGRATIONS)
    .all()
    .map((r) => r.version);
}

/** A kind of database file and the migrations that make its schema. */
interface Schema {
  kind: string;
  migrations: readonly Migration[];
}

function refuseUnknown(applied: readonly number[], file: string, schema: Schema): void {
  const known = new Set(schema.migrations.map((m) => m.version));
  const unknown = applied.filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `${schema.kind} database ${file} has schema migrations ${unknown.join(', ')} that this version does not know; upgrade phi-audit`,
    );
  }
}

/** Applies pending migrations, each in one IMMEDIATE transaction with its record: re-running is a no-op. */
function migrate(db: Database.Database, logger: Logger, schema: Schema): void {
  db.exec(sql.CREATE_SCHEMA_MIGRATIONS);
  refuseUnknown(appliedVersions(db), db.name, schema);
  const record = db.prepare(sql.INSERT_APPLIED_MIGRATION);
  for (const migration of schema.migrations) {
    let applied = false;
    try {
      db.transaction(() => {
        // Re-read under the write lock: another process may have migrated meanwhile.
        if (appliedVersions(db).includes(migration.version)) return;
        for (const statement of migration.statements) db.exec(statement);
        record.run(migration.version, migration.name, Date.now());
        applied = true;
      }).immediate();
    } catch (err) {
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `schema migration ${migration.version} (${migration.name}) failed and was rolled back${codeSuffix(err)}`,
        { cause: err },
      );
    }
    if (applied) logger.info({ kind: schema.kind, version: migration.version }, 'applied schema migration');
  }
}

/** A read-only open may not migrate: the schema must be exactly the one this build knows. */
function checkSchema(db: Database.Database, file: string, schema: Schema): void {
  if (db.prepare(sql.HAS_SCHEMA_MIGRATIONS).get() === undefined) {
    throw new StoreError('STORE_SCHEMA_OUTDATED', `${file} is not a phi-audit ${schema.kind} database (no schema)`);
  }
  const applied = appliedVersions(db);
  refuseUnknown(applied, file, schema);
  const missing = schema.migrations.filter((m) => !applied.includes(m.version)).map((m) => m.version);
  if (missing.length > 0) {
    throw new StoreError(
      'STORE_SCHEMA_OUTDATED',
      `${schema.kind} database ${file} lacks schema migrations ${missing.join(', ')}; open it once read-write (start phi-audit) to upgrade it`,
    );
  }
}
