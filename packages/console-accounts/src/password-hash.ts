/**
 * Password hashes: scrypt (node:crypto), encoded as `scrypt$N$r$p$salt$hash` with salt and hash in
 * base64url. Verification reads the parameters from the encoding, so they can be raised later:
 * `needsRehash` tells the caller to re-hash on the next successful login.
 */

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConsoleError } from './errors.js';

/** scrypt cost parameters. */
export interface ScryptParameters {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** Today's parameters: about 32 MiB and tens of milliseconds per hash (OWASP's scrypt baseline is N=2^17 r=8 p=1; 2^15 keeps logins snappy on small machines). */
export const DEFAULT_SCRYPT: Readonly<ScryptParameters> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** A stored hash may not make us spend more than this (a tampered row must not exhaust memory). */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const MIN_N = 2 ** 10;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Memory scrypt needs is 128·N·r bytes; node refuses anything above maxmem, so allow twice that. */
function scryptOptions(params: ScryptParameters): ScryptOptions {
  return { N: params.N, r: params.r, p: params.p, maxmem: 2 * 128 * params.N * params.r + 1024 * 1024 };
}

function derive(password: string, salt: Buffer, params: ScryptParameters, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, scryptOptions(params), (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

function checkParameters(params: ScryptParameters): void {
  const { N, r, p } = params;
  const ok =
    Number.isSafeInteger(N) &&
    N >= MIN_N &&
    (N & (N - 1)) === 0 &&
    Number.isSafeInteger(r) &&
    r >= 1 &&
    r <= 32 &&
    Number.isSafeInteger(p) &&
    p >= 1 &&
    p <= 16 &&
    128 * N * r <= MAX_MEMORY_BYTES;
  if (!ok) throw new ConsoleError('CONSOLE_BAD_HASH', 'scrypt parameters out of range');
}

/** Hashes `password` with a fresh 16-byte salt. `params` defaults to DEFAULT_SCRYPT. */
export async function hashPassword(password: string, params: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  checkParameters(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  params: ScryptParameters;
  salt: Buffer;
  key: Buffer;
}

/** Reads an encoded hash; throws CONSOLE_BAD_HASH for anything but a well-formed `scrypt$N$r$p$salt$hash`. */
function parseHash(encoded: string): ParsedHash {
  const parts = encoded.split('$');
  const [scheme, n, r, p, salt, key] = parts;
  if (
    parts.length !== 6 ||
    scheme !== 'scrypt' ||
    salt === undefined ||
    key === undefined ||
    !B64URL.test(salt) ||
    !B64URL.test(key) ||
    ![n, r, p].every((x) => x !== undefined && /^[1-9][0-9]{0,9}$/.test(x))
  ) {
    throw new ConsoleError('CONSOLE_BAD_HASH', 'not a scrypt password hash');
  }
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  checkParameters(params);
  const parsed = { params, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
  if (parsed.salt.length < SALT_BYTES || parsed.key.length < 16 || parsed.key.length > 64) {
    throw new ConsoleError('CONSOLE_BAD_HASH', 'scrypt password hash has a short salt or key');
  }
  return parsed;
}

/** True when `password` matches `encoded` (constant-time comparison). Throws CONSOLE_BAD_HASH for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const { params, salt, key } = parseHash(encoded);
  const candidate = await derive(password, salt, params, key.length);
  return timingSafeEqual(candidate, key);
}

/** True when `encoded` was made with weaker parameters than `params` (or is unreadable): re-hash at the next login. */
export function needsRehash(encoded: string, params: ScryptParameters = DEFAULT_SCRYPT): boolean {
  try {
    const parsed = parseHash(encoded);
    return (
      parsed.params.N < params.N ||
      parsed.params.r < params.r ||
      parsed.params.p < params.p ||
      parsed.salt.length < SALT_BYTES ||
      parsed.key.length < KEY_BYTES
    );
  } catch {
    return true;
  }
}
