import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadVerifierKeys } from '@phi-audit/checkpoints';
import { verifierKeyLabel, verifyEvidenceBundle, type NoteVerifier } from '@phi-audit/ledger';
import { verifierKeyEntriesFromEnv } from './evidence.js';

/** Exit codes of `phi-audit verify-evidence`. */
export const VERIFY_EVIDENCE_EXIT = { ok: 0, invalid: 1, error: 2 } as const;

export interface RunVerifyEvidenceOptions {
  /** The bundle file's bytes. */
  bundle: Uint8Array;
  /** What to call the bundle in messages (its path). */
  name: string;
  /** Keys the checkpoints must be signed by; empty or absent: self-consistency only. */
  trustedKeys?: readonly NoteVerifier[];
  /** Where the trusted keys came from (for the output). */
  keySource?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * Verifies a bundle offline and prints the outcome: on success one line per record (origin,
 * index, eventId, event time, action — the investigator asked for these events) and the
 * signing keys; on failure the first problem. Returns 0 valid, 1 invalid.
 */
export function runVerifyEvidence(options: RunVerifyEvidenceOptions): number {
  const { out, err } = options;
  const trustedKeys = options.trustedKeys ?? [];
  const result = verifyEvidenceBundle(options.bundle, { trustedKeys });
  const first = result.problems[0];
  if (!result.ok || first !== undefined) {
    err.write(`${options.name}: INVALID: ${first ? `${first.subject}: ${first.message}` : 'unknown problem'}\n`);
    if (result.problems.length > 1) err.write(`  (${result.problems.length - 1} more problems)\n`);
    return VERIFY_EVIDENCE_EXIT.invalid;
  }
  for (const r of result.records) {
    out.write(`${r.origin}  ${r.index}  ${r.eventId}  ${new Date(r.occurredAt).toISOString()}  ${r.action}\n`);
  }
  for (const c of result.checkpoints) {
    out.write(`checkpoint ${c.origin} size ${c.size} root ${c.rootHex} signed by ${c.signedBy.join(', ')}\n`);
  }
  const records = `${result.records.length} ${result.records.length === 1 ? 'record' : 'records'}`;
  const logs = `${result.checkpoints.length} ${result.checkpoints.length === 1 ? 'log' : 'logs'}`;
  if (result.checkedAgainstTrustedKeys) {
    const trusted = result.keys.filter((k) => k.trusted).map((k) => k.label);
    out.write(
      `${options.name}: OK: ${records} in ${logs}, every checkpoint signed by a trusted key (${trusted.join(', ')}${options.keySource ? `, from ${options.keySource}` : ''})\n`,
    );
  } else {
    out.write(
      `${options.name}: OK (self-consistent only): ${records} in ${logs}, signed by the bundled key(s) ${result.keys.map((k) => k.label).join(', ')}\n`,
    );
    out.write(
      'no --key given: the bundled key proves only that the bundle is self-consistent. Compare the key name and ID above ' +
        "with the log operator's published verifier key, or run again with --key <published key>.\n",
    );
  }
  return VERIFY_EVIDENCE_EXIT.ok;
}

export interface VerifyEvidenceCommandOptions {
  key?: string[];
}

/** The whole `phi-audit verify-evidence` command: reads the file and the keys, verifies. */
export function runVerifyEvidenceCommand(
  file: string,
  options: VerifyEvidenceCommandOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): number {
  let bundle: Buffer;
  try {
    bundle = readFileSync(file);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    io.err.write(`phi-audit verify-evidence: cannot read ${file}${typeof code === 'string' ? ` (${code})` : ''}\n`);
    return VERIFY_EVIDENCE_EXIT.error;
  }
  const fromFlag = options.key !== undefined && options.key.length > 0;
  const entries = fromFlag ? options.key! : verifierKeyEntriesFromEnv(io.env.PHI_AUDIT_VERIFIER_KEYS);
  const keySource = fromFlag ? '--key' : '$PHI_AUDIT_VERIFIER_KEYS';
  let trustedKeys: NoteVerifier[] = [];
  if (entries.length > 0) {
    try {
      trustedKeys = loadVerifierKeys(entries);
    } catch (e) {
      io.err.write(`phi-audit verify-evidence: ${e instanceof Error ? e.message : String(e)}\n`);
      return VERIFY_EVIDENCE_EXIT.error;
    }
    if (trustedKeys.length === 0) {
      io.err.write(`phi-audit verify-evidence: ${keySource} holds no verifier key\n`);
      return VERIFY_EVIDENCE_EXIT.error;
    }
    io.err.write(
      `phi-audit verify-evidence: trusted keys (${keySource}): ${trustedKeys.map(verifierKeyLabel).join(', ')}\n`,
    );
  }
  return runVerifyEvidence({ bundle, name: file, trustedKeys, keySource, out: io.out, err: io.err });
}

/**
 * `phi-audit verify-evidence <bundle> [--key <key...>]`: checks an evidence bundle offline, with
 * no store. Exit 0 valid, 1 invalid (the first problem named), 2 usage or unreadable file.
 */
export function registerVerifyEvidenceCommand(program: Command): void {
  program
    .command('verify-evidence')
    .description('Verify an evidence bundle offline: signatures, inclusion proofs, every byte')
    .argument('<bundle>', 'the bundle file written by phi-audit evidence')
    .option(
      '--key <key...>',
      'the published verifier key(s) (key text or file) the checkpoints must be signed by; default $PHI_AUDIT_VERIFIER_KEYS',
    )
    .action((file: string, opts: VerifyEvidenceCommandOptions) => {
      process.exitCode = runVerifyEvidenceCommand(file, opts, {
        out: process.stdout,
        err: process.stderr,
        env: process.env,
      });
    });
}
