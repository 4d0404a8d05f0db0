import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ServicesError } from './errors.js';

/** Passwords of the restricted ClickHouse accounts of a local installation. */
export interface ClickHouseCredentials {
  readonly writerPassword: string;
  readonly readerPassword: string;
}

function generatePassword(): string {
  // Hex: safe inside XML, URLs and shell words without escaping.
  return randomBytes(24).toString('hex');
}

function isCredentials(value: unknown): value is ClickHouseCredentials {
  const v = value as Partial<Record<keyof ClickHouseCredentials, unknown>> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.writerPassword === 'string' &&
    /^[0-9a-f]{48}$/.test(v.writerPassword) &&
    typeof v.readerPassword === 'string' &&
    /^[0-9a-f]{48}$/.test(v.readerPassword)
  );
}

/**
 * Reads the passwords kept in `file`, generating and storing them (mode 0600) the first time.
 * They stay stable across restarts so URLs handed out earlier keep working.
 */
export function loadOrCreateClickHouseCredentials(file: string): ClickHouseCredentials {
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ServicesError(
        'SERVICES_INVALID_CONFIG',
        `${file} is not valid JSON; delete it to generate new passwords`,
        {
          cause: error,
        },
      );
    }
    if (!isCredentials(parsed)) {
      throw new ServicesError('SERVICES_INVALID_CONFIG', `${file} is malformed; delete it to generate new passwords`);
    }
    chmodSync(file, 0o600);
    return parsed;
  }
  const credentials: ClickHouseCredentials = { writerPassword: generatePassword(), readerPassword: generatePassword() };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}
