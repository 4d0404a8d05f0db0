export { CONSOLE_ERROR_CODES, ConsoleError, isConsoleError, type ConsoleErrorCode } from './errors.js';
export { ALL_TENANTS, ROLES, isRole, mayAccessTenant, type Role } from './roles.js';
export { CONSOLE_FILE, consoleFileIn } from './console-layout.js';
export { CONSOLE_USER_SCHEMA, USERNAME_PATTERN, type ConsoleUser } from './console-user.js';
export { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, type ScryptParameters } from './password-hash.js';
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, checkPasswordPolicy } from './password-policy.js';
export { CONSOLE_SETTINGS_SCHEMA, type ConsoleSettings, type ConsoleSettingsInput } from './settings.js';
export { createAccountStore } from './account-store.js';
export type { AccountStore, AccountStoreOptions, ConsoleSession, LoginResult, NewUser } from './account-store-api.js';
