import { renderClickHouseUsers } from '@phi-audit/store-clickhouse';
import type { ClickHouseCredentials } from './clickhouse-credentials.js';
import { ServicesError } from './errors.js';

/**
 * Renders the users.d file that declares the restricted `phi_writer` / `phi_reader` accounts
 * (limited to the `phi_audit` database) from deploy/clickhouse's template.
 */
export function renderRestrictedUsers(credentials: ClickHouseCredentials): string {
  try {
    return renderClickHouseUsers({
      writerPassword: credentials.writerPassword,
      readerPassword: credentials.readerPassword,
    });
  } catch (error) {
    throw new ServicesError(
      'SERVICES_CLICKHOUSE_USERS',
      'cannot render the ClickHouse users file (deploy/clickhouse/users.d)',
      {
        cause: error,
      },
    );
  }
}
