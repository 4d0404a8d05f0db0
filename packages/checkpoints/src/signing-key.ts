/**
 * Where the checkpoint signing key comes from: a file or the environment, never the database.
 */
import type { NoteSigner } from '@phi-audit/ledger';

/**
 * Loads the signer from `key` (signer key text, e.g. $CHECKPOINT_SIGNING_KEY) or `file`
 * (a file holding it, e.g. $CHECKPOINT_SIGNING_KEY_FILE); exactly one must be given. Refuses a
 * key file readable by group or others (mode & 0o077) with CHECKPOINT_KEY_UNAVAILABLE; the
 * message names the file, never its contents.
 */
export function loadSigningKey(options: { key?: string | undefined; file?: string | undefined }): NoteSigner {
  void options;
  throw new Error('not implemented');
}

/**
 * Creates a new signing key named `name`: writes the signer key to `file` (mode 0600, refusing
 * to overwrite an existing file) and the verifier key to `file + '.pub'` (mode 0644).
 * Returns the verifier key text.
 */
export function createSigningKeyFile(options: { name: string; file: string }): {
  verifierKey: string;
  publicFile: string;
} {
  void options;
  throw new Error('not implemented');
}

/**
 * Loads the signing key from `file`, creating it first (createSigningKeyFile with `name`) when
 * it does not exist — embedded mode's first run.
 */
export function loadOrCreateSigningKey(options: { name: string; file: string }): {
  signer: NoteSigner;
  created: boolean;
} {
  void options;
  throw new Error('not implemented');
}

/**
 * Parses trusted verifier keys: each entry is either a verifier key text or the path of a file
 * holding one key per line (blank lines and lines starting with # ignored). Throws
 * CHECKPOINT_KEY_UNAVAILABLE naming the entry that is neither.
 */
export function loadVerifierKeys(entries: readonly string[]): import('@phi-audit/ledger').NoteVerifier[] {
  void entries;
  throw new Error('not implemented');
}
