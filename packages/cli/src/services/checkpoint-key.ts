import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSigningKeyFile } from '@phi-audit/checkpoints';
import type { ServicesLayout } from './layout.js';

/** Name of the local services' checkpoint signing key (appears in every signed note). */
export const LOCAL_SIGNING_KEY_NAME = 'phi-audit-local-services';

/** Where the local services keep the checkpoint signing key and exported checkpoints. */
export interface CheckpointKeyFiles {
  /** Signer key (mode 0600): CHECKPOINT_SIGNING_KEY_FILE of the writers. */
  readonly signingKeyFile: string;
  /** Verifier key: PHI_AUDIT_VERIFIER_KEYS of `phi-audit verify`. */
  readonly verifierKeyFile: string;
  /** CHECKPOINT_EXPORT_DIR of the writers, `--checkpoints` of verify. */
  readonly exportDir: string;
}

/** The checkpoint key paths of a services state directory (nothing is created). */
export function checkpointKeyFiles(layout: ServicesLayout): CheckpointKeyFiles {
  const signingKeyFile = join(layout.stateDir, 'checkpoint-signing.key');
  return {
    signingKeyFile,
    verifierKeyFile: `${signingKeyFile}.pub`,
    exportDir: join(layout.stateDir, 'checkpoints'),
  };
}

/**
 * Creates the local checkpoint signing key (once: an existing key is kept, since replacing it
 * would orphan every checkpoint signed so far) and the export directory.
 */
export function ensureCheckpointKey(layout: ServicesLayout): CheckpointKeyFiles {
  const files = checkpointKeyFiles(layout);
  mkdirSync(layout.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(files.exportDir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.signingKeyFile)) {
    try {
      createSigningKeyFile({ name: LOCAL_SIGNING_KEY_NAME, file: files.signingKeyFile });
    } catch (err) {
      // Another process (a parallel `services up`, the test global setup) created it first.
      if (!existsSync(files.signingKeyFile)) throw err;
    }
  }
  return files;
}
