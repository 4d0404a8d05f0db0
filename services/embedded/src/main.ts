import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { errorSummary } from '@phi-audit/bus-kafka';
import {
  buildCollectorApp,
  collectorLoggerOptions,
  createCollectorMetrics,
  openIngestKeyStore,
} from '@phi-audit/collector';
import { CheckpointError, loadOrCreateSigningKey, loadSigningKey } from '@phi-audit/checkpoints';
import { registerConsole, registerConsoleRoutes } from '@phi-audit/console';
import { createConsoleAuditTrail } from '@phi-audit/console-audit';
import { consoleFileIn, createAccountStore, type AccountStore } from '@phi-audit/console-accounts';
import { parseVerifierKey, type NoteSigner } from '@phi-audit/ledger';
import { startEmbeddedDetector, type EmbeddedDetector } from '@phi-audit/detector';
import { registerLedgerRoutes } from '@phi-audit/ledger-api';
import { registerReferenceRoutes } from '@phi-audit/reference-api';
import {
  createSqliteDetectionStore,
  createSqliteLedgerStore,
  detectionFileIn,
  embeddedOrigin,
  LEDGER_FILE,
  type SqliteDetectionStore,
  type SqliteLedgerStore,
} from '@phi-audit/store-sqlite';
import { firstRunBanner, listeningLine, signingKeyCreatedNotice, type CheckpointSetup } from './banner.js';
import { parseEmbeddedConfig, type CheckpointSettings, type EmbeddedConfig } from './config.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { createEmbeddedLedger, type EmbeddedLedger } from './embedded-ledger.js';
import { createEmbeddedMetrics } from './embedded-metrics.js';
import { EmbeddedError } from './errors.js';
import type { WorkerCheckpointSettings } from './ledger-worker-protocol.js';

/** A running embedded ledger. */
export interface RunningEmbedded {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly dataDir: string;
  /** True when the ledger is new (no file before, or still empty with no ingest key): the banner was printed. */
  readonly firstRun: boolean;
  readonly ledger: EmbeddedLedger;
  readonly store: SqliteLedgerStore;
  readonly app: FastifyInstance;
  /** Stops accepting, answers in-flight requests after their commits, closes the store (WAL checkpoint), releases the lock. */
  close(): Promise<void>;
}

export interface StartEmbeddedOptions {
  config: EmbeddedConfig;
  logger: Logger;
  /** Where the banner and the listening line go. Default process.stdout. */
  out?: NodeJS.WritableStream;
  /**
   * @internal Only for `bench/embedded.ts`, which measures what Merkle tiles and checkpoints
   * cost: false writes records without tiles and signs nothing. Deliberately not an
   * environment variable — a ledger without checkpoints has no tail-truncation protection.
   */
  checkpointing?: boolean;
}

/** The loaded signer, the key text for the writer thread (memory only) and where things are. */
interface LoadedSigningKey {
  signer: NoteSigner;
  keyText: string;
  setup: CheckpointSetup;
}

/**
 * Loads the checkpoint signing key as configured; the default key file in the data directory
 * is created on first use. The key text is read here (after loadSigningKey checked the file's
 * mode) because the writer thread gets the text, never a path it would have to re-check.
 */
function loadCheckpointKey(settings: CheckpointSettings, dataDir: string): LoadedSigningKey {
  const key = settings.signingKey;
  const where = {
    exportDir: settings.exportDir,
    exportUrl: settings.exportUrl,
  };
  switch (key.kind) {
    case 'env': {
      const keyText = key.key();
      const signer = loadSigningKey({ key: keyText });
      return { signer, keyText, setup: { ...where, verifierKey: signer.verifierKey, created: false } };
    }
    case 'file':
    case 'default': {
      let signer: NoteSigner;
      let created = false;
      if (key.kind === 'default') ({ signer, created } = loadOrCreateSigningKey({ name: key.name, file: key.file }));
      else signer = loadSigningKey({ file: key.file });
      let keyText: string;
      try {
        keyText = readFileSync(key.file, 'utf8');
      } catch (error) {
        throw new CheckpointError(
          'CHECKPOINT_KEY_UNAVAILABLE',
          `cannot read the checkpoint signing key file ${key.file} (${(error as NodeJS.ErrnoException).code})`,
          { cause: error },
        );
      }
      const publicFile = `${key.file}.pub`;
      return {
        signer,
        keyText,
        setup: {
          ...where,
          verifierKey: signer.verifierKey,
          signingKeyFile: key.file,
          ...(existsSync(publicFile) ? { verifierKeyFile: publicFile } : {}),
          keyInDataDir: isInside(key.file, dataDir),
          created,
        },
      };
    }
    default:
      return key satisfies never;
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The embedded service's logger: the collector's redaction, tagged `service: embedded`. */
export function createEmbeddedLogger(level: EmbeddedConfig['logLevel']): Logger {
  return pino({ ...collectorLoggerOptions(level), base: { service: 'embedded' } });
}

/**
 * Wires embedded mode: creates and locks the data directory, loads (first start: creates) the
 * checkpoint signing key, opens the SQLite ledger and the key file in it, builds the collector
 * app on the embedded ledger (whose writer thread keeps Merkle tiles and signs checkpoints),
 * mounts the ledger API (/v1/ledger, auditor keys only) and listens. Prints the first-run
 * banner (when the ledger file is new) and the listening line to `out`.
 */
export async function startEmbedded(options: StartEmbeddedOptions): Promise<RunningEmbedded> {
  const { config, logger } = options;
  const out = options.out ?? process.stdout;
  const { dataDir } = config;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new EmbeddedError(
      'EMBEDDED_DATA_DIR_UNUSABLE',
      `cannot create the data directory ${dataDir}: ${(error as NodeJS.ErrnoException).code}`,
      { cause: error },
    );
  }
  const lock: DataDirLock = acquireDataDirLock(dataDir);
  let store: SqliteLedgerStore | undefined;
  let app: FastifyInstance | undefined;
  let openedLedger: EmbeddedLedger | undefined;
  let referenceStore: SqliteDetectionStore | undefined;
  let detecting: Promise<EmbeddedDetector> | undefined;
  let accounts: AccountStore | undefined;
  try {
    const ledgerFile = join(dataDir, LEDGER_FILE);
    const ledgerExisted = existsSync(ledgerFile);
    const openedStore = createSqliteLedgerStore({
      file: ledgerFile,
      logger,
      ...(config.maxDbPages !== undefined ? { maxPageCount: config.maxDbPages } : {}),
    });
    store = openedStore;
    const keys = openIngestKeyStore({ file: config.collector.keysFile, logger });
    // A start that failed after creating the file (port in use, say) still counts as the first.
    const firstRun = !ledgerExisted || (keys.size() === 0 && (await openedStore.heads()).length === 0);
    const checkpointing = options.checkpointing ?? true;
    const signing = checkpointing ? loadCheckpointKey(config.checkpoints, dataDir) : undefined;
    const metrics = createCollectorMetrics();
    const c = config.checkpoints;
    const token = c.exportToken?.();
    const workerCheckpoints: WorkerCheckpointSettings | undefined =
      signing === undefined
        ? undefined
        : {
            signerKey: signing.keyText,
            everyRecords: c.everyRecords,
            intervalMs: c.intervalMs,
            exportDir: c.exportDir,
            ...(c.exportUrl !== undefined ? { exportUrl: c.exportUrl } : {}),
            ...(token !== undefined ? { exportToken: token } : {}),
          };
    // The writer thread opens its own connection to the (now migrated) file; `store` serves reads.
    const ledger = createEmbeddedLedger({
      file: ledgerFile,
      ...(config.maxDbPages !== undefined ? { maxPageCount: config.maxDbPages } : {}),
      logger,
      metrics: createEmbeddedMetrics(metrics.registry),
      ...(workerCheckpoints !== undefined ? { checkpoints: workerCheckpoints } : {}),
    });
    openedLedger = ledger;
    // The detector tails the ledger in a thread of its own (rule evaluation never stalls ingest).
    // Its thread starts while the routes are built; awaited before listening: a bad policy file fails the start.
    detecting = config.detection
      ? startEmbeddedDetector({
          ledgerFile,
          detectionFile: detectionFileIn(dataDir),
          policyDir: join(dataDir, 'policies'),
          logger,
          // Its metrics (events processed, alerts written, lag) on this app's /metrics.
          registry: metrics.registry,
        })
      : undefined;
    detecting?.catch(() => undefined);
    const server = buildCollectorApp({ config: config.collector, logger, publisher: ledger, keys, metrics });
    app = server;
    // Proofs and checkpoints, on the ingest port; ingest keys are not auditor keys (401 there).
    await registerLedgerRoutes(server, {
      store: openedStore,
      authenticate: (bearer) => keys.authenticateAuditor(bearer),
    });
    // Reference data (patients, workforce, relationships) loaded with ingest keys, into
    // <data>/detection.sqlite: its own file, so the ledger file stays append-only.
    const detectionStore = createSqliteDetectionStore({ file: detectionFileIn(dataDir), logger });
    referenceStore = detectionStore;
    await registerReferenceRoutes(server, {
      store: detectionStore,
      authenticate: (bearer) => keys.authenticate(bearer),
    });
    // The console (API under /api, OpenAPI at /docs), its accounts in <data>/console.sqlite.
    const consoleAccounts = createAccountStore({ file: consoleFileIn(dataDir), logger });
    accounts = consoleAccounts;
    // Every PHI view and decision is appended to the ledger (as the console's own access events)
    // and committed before the console answers.
    const audit = createConsoleAuditTrail({ publish: (events) => ledger.publish(events), logger });
    await registerConsole(server, {
      accounts: consoleAccounts,
      routes: (api) => {
        registerConsoleRoutes(api, {
          detection: detectionStore,
          ledger: openedStore,
          audit,
          // The checkpoints are this process's own: its signing key's verifier key checks them.
          verifierKeys: signing === undefined ? [] : [parseVerifierKey(signing.signer.verifierKey)],
          // One log per tenant in embedded mode.
          tenantLogs: (tenant) => [embeddedOrigin(tenant)],
        });
        return Promise.resolve();
      },
    });
    const detector = await detecting;
    await server.listen({ host: config.http.host, port: config.http.port }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is in use by another program' : `cannot be used (${code})`;
      throw new EmbeddedError(
        'EMBEDDED_LISTEN_FAILED',
        `port ${config.http.port} on ${config.http.host} ${why}; set PORT to another port`,
        { cause: error },
      );
    });
    const port = (server.server.address() as AddressInfo).port;
    const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
    if (firstRun) out.write(firstRunBanner({ url, dataDir, ...(signing ? { checkpoints: signing.setup } : {}) }));
    else if (signing?.setup.created === true) out.write(signingKeyCreatedNotice(signing.setup));
    if (signing === undefined)
      out.write('phi-audit: checkpointing is OFF (benchmark mode): no tiles, no signed checkpoints\n');
    out.write(listeningLine(url, dataDir));
    logger.info(
      {
        url,
        dataDir,
        firstRun,
        activeKeys: keys.size(),
        ...(signing ? { checkpointKey: signing.signer.name, checkpointExportDir: c.exportDir } : {}),
      },
      'embedded ledger listening',
    );

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        try {
          await server.close(); // waits for in-flight requests, whose commits settle first
          await ledger.close();
          await detector?.close(); // its final flush and cursor save
          await detectionStore.close();
          consoleAccounts.close();
          await openedStore.close();
        } finally {
          lock.release();
        }
        logger.info({ dataDir }, 'embedded ledger stopped');
      })());
    return { url, dataDir, firstRun, ledger, store: openedStore, app: server, close };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await openedLedger?.close().catch(() => undefined);
    await detecting?.then((d) => d.close()).catch(() => undefined);
    await referenceStore?.close().catch(() => undefined);
    try {
      accounts?.close();
    } catch {
      // closing after a failed start: the original error matters
    }
    await store?.close().catch(() => undefined);
    lock.release();
    throw error;
  }
}

/**
 * The only place that reads the environment: parses it, starts embedded mode and, when
 * `handleSignals`, shuts down cleanly on SIGINT/SIGTERM (exit 0; exit 1 if closing failed).
 */
export async function main(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { handleSignals?: boolean; out?: NodeJS.WritableStream } = {},
): Promise<RunningEmbedded> {
  const config = parseEmbeddedConfig(env);
  const logger = createEmbeddedLogger(config.logLevel);
  // Handlers go in before the (seconds-long) start, so a SIGTERM during it still ends in a clean
  // close once the start completes, instead of killing the process mid-start.
  const started: { running?: RunningEmbedded; signalled?: boolean } = {};
  const shutdown = (done: RunningEmbedded): void => {
    done.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(errorSummary(error), 'shutdown failed');
        process.exit(1);
      },
    );
  };
  if (options.handleSignals ?? true) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        if (started.running === undefined) started.signalled = true;
        else shutdown(started.running);
      });
    }
  }
  const running = await startEmbedded({ config, logger, ...(options.out ? { out: options.out } : {}) });
  started.running = running;
  if (started.signalled === true) shutdown(running);
  return running;
}
