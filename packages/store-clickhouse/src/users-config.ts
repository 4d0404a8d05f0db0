import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE } from './connection-options.js';
import { StoreError } from './errors.js';
import { isIdentifier } from './sql-literal.js';

/** deploy/clickhouse/users.d/phi-audit-users.xml.template, from src/ or dist/ of this package. */
export const CLICKHOUSE_USERS_TEMPLATE_PATH = fileURLToPath(
  new URL('../../../deploy/clickhouse/users.d/phi-audit-users.xml.template', import.meta.url),
);

/** Shortest password renderClickHouseUsers accepts. */
export const MIN_CLICKHOUSE_PASSWORD_LENGTH = 12;

export interface ClickHouseUsersOptions {
  writerPassword: string;
  readerPassword: string;
  /** Only database the users may touch. Default `phi_audit`. */
  database?: string;
  /** Default `phi_writer`. */
  writerUser?: string;
  /** Default `phi_reader`. */
  readerUser?: string;
  /** Template to render; default CLICKHOUSE_USERS_TEMPLATE_PATH. */
  templatePath?: string;
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * Renders the users.d file (profiles `phi_writer`/`phi_reader`, the two users with
 * SHA-256 password hashes, limited to one database and to local/private networks) for
 * /etc/clickhouse-server/users.d/. Works on ClickHouse 18.16 and current versions.
 * Only hashes reach the output. Throws STORE_USERS_TEMPLATE for a missing template, a
 * password shorter than MIN_CLICKHOUSE_PASSWORD_LENGTH or with control characters, or a
 * user/database name that is not a plain identifier.
 */
export function renderClickHouseUsers(options: ClickHouseUsersOptions): string {
  const database = options.database ?? DEFAULT_DATABASE;
  const writerUser = options.writerUser ?? 'phi_writer';
  const readerUser = options.readerUser ?? 'phi_reader';
  for (const [what, name] of [
    ['database', database],
    ['writerUser', writerUser],
    ['readerUser', readerUser],
  ] as const) {
    if (!isIdentifier(name)) {
      throw new StoreError(
        'STORE_USERS_TEMPLATE',
        `${what} must be a plain identifier (a-z, 0-9, "_", not starting with a digit)`,
      );
    }
  }
  if (writerUser === readerUser) throw new StoreError('STORE_USERS_TEMPLATE', 'writerUser and readerUser must differ');
  for (const [what, password] of [
    ['writerPassword', options.writerPassword],
    ['readerPassword', options.readerPassword],
  ] as const) {
    if (typeof password !== 'string' || password.length < MIN_CLICKHOUSE_PASSWORD_LENGTH) {
      throw new StoreError(
        'STORE_USERS_TEMPLATE',
        `${what} must be at least ${MIN_CLICKHOUSE_PASSWORD_LENGTH} characters`,
      );
    }
    // eslint-disable-next-line no-control-regex
    if (!password.isWellFormed() || /[\u0000-\u001f\u007f]/.test(password)) {
      throw new StoreError('STORE_USERS_TEMPLATE', `${what} must be well-formed text without control characters`);
    }
  }
  const path = options.templatePath ?? CLICKHOUSE_USERS_TEMPLATE_PATH;
  let template: string;
  try {
    template = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StoreError('STORE_USERS_TEMPLATE', `cannot read the ClickHouse users template at ${path}`, {
      cause: err,
    });
  }
  const values: Record<string, string> = {
    WRITER_USER: writerUser,
    READER_USER: readerUser,
    DATABASE: database,
    WRITER_PASSWORD_SHA256: sha256Hex(options.writerPassword),
    READER_PASSWORD_SHA256: sha256Hex(options.readerPassword),
  };
  const rendered = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined)
      throw new StoreError('STORE_USERS_TEMPLATE', `the users template has an unknown placeholder ${whole}`);
    return value;
  });
  return rendered;
}
