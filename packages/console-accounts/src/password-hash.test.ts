import { describe, expect, it } from 'vitest';
import { isConsoleError } from './errors.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword } from './password-hash.js';
import { checkPasswordPolicy } from './password-policy.js';

describe('password hashes', () => {
  it('round-trips with the default parameters, encoded as scrypt$N$r$p$salt$hash', async () => {
    const hash = await hashPassword('correct horse battery staple');
    const parts = hash.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(parts[4]!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(parts[5]!, 'base64url')).toHaveLength(32);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  it('reads the parameters from the encoding, and flags weaker ones for re-hashing', async () => {
    const weak = await hashPassword('a long enough password', { N: 2 ** 10, r: 8, p: 1 });
    expect(weak.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('a long enough password', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(weak, { N: 2 ** 10, r: 8, p: 1 })).toBe(false);
    // Changing the recorded cost changes the derived key: the password no longer matches.
    const bumped = weak.replace('scrypt$1024$', 'scrypt$2048$');
    expect(await verifyPassword('a long enough password', bumped)).toBe(false);
  });

  it('rejects tampered hashes: a flipped key byte fails, malformed or abusive encodings throw', async () => {
    const hash = await hashPassword('a long enough password', { N: 2 ** 10, r: 8, p: 1 });
    const parts = hash.split('$');
    const key = Buffer.from(parts[5]!, 'base64url');
    key[0] = key[0]! ^ 1;
    const tampered = [...parts.slice(0, 5), key.toString('base64url')].join('$');
    expect(await verifyPassword('a long enough password', tampered)).toBe(false);
    for (const bad of [
      '',
      'bcrypt$10$x',
      hash.replace('scrypt$1024$', 'scrypt$1000$'), // not a power of two
      hash.replace('scrypt$1024$8$', 'scrypt$1048576$64$'), // 8 GiB: refused before scrypt runs
      parts.slice(0, 5).join('$'),
    ]) {
      await expect(verifyPassword('a long enough password', bad)).rejects.toSatisfy((e) =>
        isConsoleError(e, 'CONSOLE_BAD_HASH'),
      );
      expect(needsRehash(bad)).toBe(true);
    }
    expect(DEFAULT_SCRYPT).toEqual({ N: 32768, r: 8, p: 1 });
  });
});

describe('password policy', () => {
  const weak = (password: string, username = 'dr.jones'): boolean => {
    try {
      checkPasswordPolicy(password, username);
      return false;
    } catch (e) {
      return isConsoleError(e, 'CONSOLE_WEAK_PASSWORD');
    }
  };

  it('wants 12 to 1024 characters', () => {
    expect(weak('a'.repeat(11))).toBe(true);
    expect(weak('a'.repeat(12))).toBe(false);
    expect(weak('😀'.repeat(12))).toBe(false); // characters, not UTF-16 units
    expect(weak('a'.repeat(1024))).toBe(false);
    expect(weak('a'.repeat(1025))).toBe(true);
    expect(weak('\ud800'.repeat(12))).toBe(true);
  });

  it('refuses a password containing the username, whatever the case', () => {
    expect(weak('my-DR.JONES-password')).toBe(true);
    expect(weak('my-dr-jones-password')).toBe(false);
  });
});
