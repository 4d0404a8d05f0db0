import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh bearer secret (session or CSRF token): 32 random bytes, base64url. Shown to the client once. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps of a token: its SHA-256 (hex). A stolen file yields no usable session. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time: does `token` hash to `storedHash`? Hashing first makes the compared lengths equal. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const a = createHash('sha256').update(token, 'utf8').digest();
  const b = Buffer.from(storedHash, 'hex');
  return b.length === a.length && timingSafeEqual(a, b);
}
