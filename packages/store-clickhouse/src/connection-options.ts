import { StoreError } from './errors.js';
import { isIdentifier } from './sql-literal.js';

/** What the ClickHouse client needs, taken apart from the store's `url` option. */
export interface ConnectionOptions {
  /** protocol://host:port, without credentials, path or query. */
  url: string;
  username: string;
  password: string;
  database: string;
}

export const DEFAULT_DATABASE = 'phi_audit';

/**
 * Splits `http[s]://user:pass@host:port[/database]` into client options. The `database`
 * argument wins over the URL path; the default is `phi_audit`. Throws STORE_INVALID_OPTIONS
 * for an unusable URL or database name; messages never include the password.
 */
export function parseConnectionOptions(options: { url: string; database?: string }): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch (err) {
    throw new StoreError(
      'STORE_INVALID_OPTIONS',
      'ClickHouse url is not a valid URL (expected http[s]://user:password@host:port[/database])',
      { cause: err },
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new StoreError('STORE_INVALID_OPTIONS', `ClickHouse url must use http or https, not ${parsed.protocol}`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new StoreError(
      'STORE_INVALID_OPTIONS',
      `ClickHouse url for ${parsed.host} must not carry a query string or fragment`,
    );
  }
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  const database = options.database ?? (path === '' ? DEFAULT_DATABASE : path);
  if (!isIdentifier(database)) {
    throw new StoreError(
      'STORE_INVALID_OPTIONS',
      `database name "${database.slice(0, 80)}" is not allowed (a-z, 0-9, "_", not starting with a digit, at most 63 characters)`,
    );
  }
  return {
    url: `${parsed.protocol}//${parsed.host}`,
    username: parsed.username === '' ? 'default' : decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}
