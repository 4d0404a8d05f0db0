/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys (algorithm 0x01), on
 * node:crypto. A note is UTF-8 text ending in "\n", a blank line, then one or more lines
 * "— <key name> <base64(key ID ‖ signature)>". Key ID = first 4 bytes (big-endian uint32) of
 * SHA-256(key name ‖ "\n" ‖ 0x01 ‖ 32-byte public key).
 *
 * Key text forms (as Go's golang.org/x/mod/sumdb/note):
 *   verifier key: <name>+<8 hex digits key ID>+<base64(0x01 ‖ public key)>
 *   signer key:   PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(0x01 ‖ 32-byte seed)>
 *
 * Where this is stricter than Go's note package (on purpose, for an audit log):
 * - base64 must be canonical (padding present, no stray characters, zero trailing bits);
 * - the key ID in key texts must be 8 lowercase hex digits (Go also accepts uppercase);
 * - every signature line of a trusted key is verified, repeated lines included (Go checks only
 *   the first line per key); the C2SP spec says a failing signature from a known key SHOULD
 *   reject the whole note, and we always do — even when another trusted key verified.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { LedgerError } from './errors.js';

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

const ALG_ED25519 = 0x01;
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const SIGNER_PREFIX = 'PRIVATE+KEY+';
const SIGNATURE_PREFIX = '\u2014 ';
/** Go's note package rejects notes with more signatures than this (C2SP: accept at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

// Go's unicode.IsSpace is exactly the Unicode White_Space property; control characters are
// refused too because they cannot appear in a note at all.
const BAD_NAME_CHAR = /[\p{White_Space}\p{Cc}+]/u;
// Notes must not contain ASCII control characters other than "\n" (C2SP), CR included.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BAD_NOTE_CHAR = /[\u0000-\u0009\u000b-\u001f]/;
const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/** True when `name` can be a key name: non-empty, well-formed, no whitespace, "+" or control characters. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.isWellFormed() && !BAD_NAME_CHAR.test(name);
}

/** Key ID of an Ed25519 key: SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0:4] as a big-endian uint32. */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  const digest = createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Buffer.of(ALG_ED25519))
    .update(publicKey)
    .digest();
  return digest.readUInt32BE(0);
}

function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** Decodes standard base64, or returns undefined unless `text` is its one canonical encoding. */
function decodeCanonicalBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  // Buffer's decoder skips junk and missing padding; re-encoding catches every such variant.
  return bytes.toString('base64') === text ? bytes : undefined;
}

function keyInvalid(message: string): LedgerError {
  return new LedgerError('LEDGER_KEY_INVALID', message);
}

function malformed(message: string): LedgerError {
  return new LedgerError('LEDGER_NOTE_MALFORMED', message);
}

function publicKeyObject(publicKey: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
}

function verifierKeyText(name: string, keyId: number, publicKey: Buffer): string {
  return `${name}+${hex8(keyId)}+${Buffer.concat([Buffer.of(ALG_ED25519), publicKey]).toString('base64')}`;
}

/**
 * Splits "<name>+<hex>+<base64>" at the first two "+" (base64 itself may contain "+"), checking
 * the name and key ID syntax. `what` names the key kind in messages; the text is never echoed.
 */
function splitKeyText(text: string, what: string): { name: string; keyId: number; keyBytes: Buffer } {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw keyInvalid(`${what} is not of the form <name>+<key ID>+<key>`);
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const keyBytes = decodeCanonicalBase64(text.slice(second + 1));
  if (!isValidKeyName(name)) throw keyInvalid(`${what} has an invalid key name`);
  if (!KEY_ID_HEX.test(idHex)) throw keyInvalid(`${what} has a key ID that is not 8 lowercase hex digits`);
  if (keyBytes === undefined || keyBytes.length === 0) throw keyInvalid(`${what} has malformed base64 key data`);
  if (keyBytes[0] !== ALG_ED25519) throw keyInvalid(`${what} is not an Ed25519 key (algorithm ${keyBytes[0]})`);
  if (keyBytes.length !== 1 + ED25519_KEY_BYTES) throw keyInvalid(`${what} has key data of the wrong length`);
  return { name, keyId: Number.parseInt(idHex, 16), keyBytes: keyBytes.subarray(1) };
}

function createSigner(name: string, seed: Buffer, expectedKeyId: number | undefined): NoteSigner {
  // node:crypto derives the public key from `d` alone; `x` must be present in the JWK but is
  // not used for a private key, so a placeholder of the right size is given and the real
  // public key is read back from the derived key object. (Checked by the Go test vectors.)
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: Buffer.alloc(32).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    // The cause is dropped on purpose: node's message could describe the key material.
    throw keyInvalid('signer key is not a usable Ed25519 seed');
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  if (publicKey.length !== ED25519_KEY_BYTES) throw keyInvalid('signer key is not a usable Ed25519 seed');
  const keyId = noteKeyId(name, publicKey);
  if (expectedKeyId !== undefined && keyId !== expectedKeyId) {
    throw keyInvalid(`signer key for "${name}" has a key ID that does not match its key`);
  }
  const verifierKey = verifierKeyText(name, keyId, publicKey);
  return Object.freeze({
    name,
    keyId,
    verifierKey,
    sign: (message: Uint8Array): Buffer => sign(null, message, privateKey),
  });
}

/**
 * Generates a new Ed25519 key pair named `name`. Throws LEDGER_KEY_INVALID for a name that is
 * empty or contains whitespace, "+" or control characters.
 */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) {
    throw keyInvalid('key name must be non-empty without whitespace, "+" or control characters');
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const keyId = noteKeyId(name, pub);
  const signerKey = `${SIGNER_PREFIX}${name}+${hex8(keyId)}+${Buffer.concat([Buffer.of(ALG_ED25519), seed]).toString('base64')}`;
  return { signerKey, verifierKey: verifierKeyText(name, keyId, pub) };
}

/** Parses a signer key text (surrounding whitespace ignored). Throws LEDGER_KEY_INVALID, never echoing the key. */
export function parseSignerKey(text: string): NoteSigner {
  const trimmed = text.trim();
  if (!trimmed.startsWith(SIGNER_PREFIX)) throw keyInvalid('signer key does not start with PRIVATE+KEY+');
  const { name, keyId, keyBytes } = splitKeyText(trimmed.slice(SIGNER_PREFIX.length), 'signer key');
  return createSigner(name, keyBytes, keyId);
}

/**
 * Parses a verifier key text (surrounding whitespace ignored). Throws LEDGER_KEY_INVALID for a
 * malformed key, an algorithm other than Ed25519, non-canonical base64, or a key ID that does
 * not match the name and key.
 */
export function parseVerifierKey(text: string): NoteVerifier {
  const trimmed = text.trim();
  if (trimmed.startsWith(SIGNER_PREFIX)) {
    throw keyInvalid('a signer (private) key was given where a verifier key is expected');
  }
  const { name, keyId, keyBytes } = splitKeyText(trimmed, 'verifier key');
  if (noteKeyId(name, keyBytes) !== keyId) {
    throw keyInvalid(`verifier key ${name}+${hex8(keyId)} has a key ID that does not match its key`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyObject(keyBytes);
  } catch (cause) {
    throw new LedgerError('LEDGER_KEY_INVALID', `verifier key ${name}+${hex8(keyId)} is not a usable Ed25519 key`, {
      cause,
    });
  }
  return Object.freeze({
    name,
    keyId,
    key: verifierKeyText(name, keyId, keyBytes),
    verify: (message: Uint8Array, signature: Uint8Array): boolean =>
      signature.length === ED25519_SIGNATURE_BYTES && verify(null, message, publicKey, signature),
  });
}

/** Throws LEDGER_NOTE_MALFORMED unless `text` can be the text of a note. */
function checkNoteText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) throw malformed('note text must be non-empty and end with a newline');
  if (!text.isWellFormed()) throw malformed('note text is not well-formed Unicode');
  if (BAD_NOTE_CHAR.test(text)) throw malformed('note text contains a control character other than newline');
}

/**
 * Signs `text` (must be non-empty, end in "\n", contain no blank line… as the spec requires)
 * with every signer, in order. Throws LEDGER_NOTE_MALFORMED for text that cannot be a note body.
 *
 * The spec allows blank lines inside the text (readers split at the last blank line), and so
 * does this function; a checkpoint body never has one.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkNoteText(text);
  if (signers.length === 0) throw malformed('a note needs at least one signature');
  if (signers.length > MAX_NOTE_SIGNATURES) throw malformed(`a note carries at most ${MAX_NOTE_SIGNATURES} signatures`);
  const message = Buffer.from(text, 'utf8');
  const lines = signers.map((signer) => {
    if (!isValidKeyName(signer.name)) throw keyInvalid('signer has an invalid key name');
    if (!Number.isInteger(signer.keyId) || signer.keyId < 0 || signer.keyId > 0xffffffff) {
      throw keyInvalid(`signer "${signer.name}" has a key ID that is not a 32-bit unsigned integer`);
    }
    const keyId = Buffer.alloc(4);
    keyId.writeUInt32BE(signer.keyId);
    const signature = Buffer.concat([keyId, signer.sign(message)]).toString('base64');
    return `${SIGNATURE_PREFIX}${signer.name} ${signature}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: number;
  /** True when a verifier with this name and key ID checked it successfully. */
  verified: boolean;
}

interface ParsedSignatureLine {
  name: string;
  keyId: number;
  signature: Buffer;
}

/** Strict syntax of a whole note; returns the text and the signature lines. */
function parseNote(note: string): { text: string; lines: ParsedSignatureLine[] } {
  if (!note.isWellFormed()) throw malformed('note is not well-formed Unicode');
  if (BAD_NOTE_CHAR.test(note)) throw malformed('note contains a control character other than newline');
  // The text may contain blank lines; the signatures start after the last one.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw malformed('note must end with a signature line and newline');
  const rawLines = block.slice(0, -1).split('\n');
  if (rawLines.length > MAX_NOTE_SIGNATURES) throw malformed(`note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  const lines = rawLines.map((line, i) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed(`signature line ${i + 1} does not start with "— "`);
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const bytes = space < 0 ? undefined : decodeCanonicalBase64(rest.slice(space + 1));
    if (!isValidKeyName(name)) throw malformed(`signature line ${i + 1} has an invalid key name`);
    // At least a key ID and one signature byte (Go's rule); Ed25519 length is checked on verify.
    if (bytes === undefined || bytes.length < 5) throw malformed(`signature line ${i + 1} has malformed base64`);
    return { name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
  });
  return { text, lines };
}

function keyLabel(name: string, keyId: number): string {
  return `${name}+${hex8(keyId)}`;
}

/**
 * Opens a note: parses it strictly (malformed → LEDGER_NOTE_MALFORMED; non-canonical base64
 * in a signature line counts as malformed), then checks every signature line whose (name, key
 * ID) matches a verifier. A matching signature that does not verify → LEDGER_NOTE_BAD_SIGNATURE;
 * no signature from any verifier → LEDGER_NOTE_UNVERIFIED (message names the keys that signed).
 * Returns the text and all signature lines.
 *
 * Two different verifier keys sharing a name and key ID are ambiguous: a signature line naming
 * them throws LEDGER_KEY_INVALID (as Go's VerifierList does).
 */
export function openNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): { text: string; signatures: NoteSignature[]; verifiedBy: NoteVerifier[] } {
  const { text, lines } = parseNote(note);
  const byKey = new Map<string, NoteVerifier[]>();
  for (const verifier of verifiers) {
    const label = keyLabel(verifier.name, verifier.keyId);
    const known = byKey.get(label) ?? [];
    if (!known.some((k) => k.key === verifier.key)) known.push(verifier);
    byKey.set(label, known);
  }
  const message = Buffer.from(text, 'utf8');
  const signatures: NoteSignature[] = [];
  const verifiedBy: NoteVerifier[] = [];
  for (const line of lines) {
    const label = keyLabel(line.name, line.keyId);
    const candidates = byKey.get(label);
    if (candidates === undefined) {
      signatures.push({ name: line.name, keyId: line.keyId, verified: false });
      continue;
    }
    const verifier = candidates[0];
    if (candidates.length > 1 || verifier === undefined) {
      throw keyInvalid(`two different trusted verifier keys are named ${label}`);
    }
    if (!verifier.verify(message, line.signature)) {
      throw new LedgerError('LEDGER_NOTE_BAD_SIGNATURE', `note has an invalid signature for trusted key ${label}`);
    }
    signatures.push({ name: line.name, keyId: line.keyId, verified: true });
    if (!verifiedBy.includes(verifier)) verifiedBy.push(verifier);
  }
  if (verifiedBy.length === 0) {
    const signers = [...new Set(lines.map((l) => keyLabel(l.name, l.keyId)))].join(', ');
    throw new LedgerError('LEDGER_NOTE_UNVERIFIED', `note is not signed by any trusted key (signed by: ${signers})`);
  }
  return { text, signatures, verifiedBy };
}
