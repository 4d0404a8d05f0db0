import { ConsoleError } from './errors.js';

/** Length bounds in characters (code points): long passphrases welcome, but not megabytes into scrypt. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/**
 * Throws CONSOLE_WEAK_PASSWORD when `password` is shorter than 12 or longer than 1024 characters,
 * is not well-formed Unicode, or contains the username (case-insensitive). Length over complexity
 * rules, as NIST SP 800-63B recommends. The message never repeats the password.
 */
export function checkPasswordPolicy(password: string, username: string): void {
  if (typeof password !== 'string' || !password.isWellFormed()) {
    throw new ConsoleError('CONSOLE_WEAK_PASSWORD', 'the password must be text');
  }
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw new ConsoleError('CONSOLE_WEAK_PASSWORD', `the password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new ConsoleError('CONSOLE_WEAK_PASSWORD', `the password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  if (username.length > 0 && password.toLowerCase().includes(username.toLowerCase())) {
    throw new ConsoleError('CONSOLE_WEAK_PASSWORD', 'the password must not contain the username');
  }
}
