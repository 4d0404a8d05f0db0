/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys (algorithm 0x01), on
 * node:crypto. A note is UTF-8 text ending in "\n", a blank line, then one or more lines
 * "— <key name> <base64(key ID ‖ signature)>". Key ID = first 4 bytes (big-endian uint32) of
 * SHA-256(key name ‖ "\n" ‖ 0x01 ‖ 32-byte public key).
 *
 * Key text forms (as Go's golang.org/x/mod/sumdb/note):
 *   verifier key: <name>+<8 hex digits key ID>+<base64(0x01 ‖ public key)>
 *   signer key:   PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(0x01 ‖ 32-byte seed)>
 */

/** Signs note texts under one key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The matching verifier key text, for publishing. */
  readonly verifierKey: string;
  /** Ed25519 signature (64 bytes) over `message`. */
  sign(message: Uint8Array): Buffer;
}

/** Checks signatures of one key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The verifier key text this was parsed from (canonical form). */
  readonly key: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/**
 * Generates a new Ed25519 key pair named `name`. Throws LEDGER_KEY_INVALID for a name that is
 * empty or contains whitespace, "+" or control characters.
 */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  void name;
  throw new Error('not implemented');
}

/** Parses a signer key text (surrounding whitespace ignored). Throws LEDGER_KEY_INVALID, never echoing the key. */
export function parseSignerKey(text: string): NoteSigner {
  void text;
  throw new Error('not implemented');
}

/**
 * Parses a verifier key text (surrounding whitespace ignored). Throws LEDGER_KEY_INVALID for a
 * malformed key, an algorithm other than Ed25519, non-canonical base64, or a key ID that does
 * not match the name and key.
 */
export function parseVerifierKey(text: string): NoteVerifier {
  void text;
  throw new Error('not implemented');
}

/**
 * Signs `text` (must be non-empty, end in "\n", contain no blank line… as the spec requires)
 * with every signer, in order. Throws LEDGER_NOTE_MALFORMED for text that cannot be a note body.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  void text;
  void signers;
  throw new Error('not implemented');
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: number;
  /** True when a verifier with this name and key ID checked it successfully. */
  verified: boolean;
}

/**
 * Opens a note: parses it strictly (malformed → LEDGER_NOTE_MALFORMED; non-canonical base64
 * in a signature line counts as malformed), then checks every signature line whose (name, key
 * ID) matches a verifier. A matching signature that does not verify → LEDGER_NOTE_BAD_SIGNATURE;
 * no signature from any verifier → LEDGER_NOTE_UNVERIFIED (message names the keys that signed).
 * Returns the text and all signature lines.
 */
export function openNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): { text: string; signatures: NoteSignature[]; verifiedBy: NoteVerifier[] } {
  void note;
  void verifiers;
  throw new Error('not implemented');
}
