/**
 * Splits $PHI_AUDIT_VERIFIER_KEYS (used by verify, evidence and verify-evidence): verifier key
 * texts or key files, separated by commas or newlines.
 */
export function verifierKeyEntriesFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
