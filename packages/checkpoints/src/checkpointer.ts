/**
 * Signs checkpoints as logs grow: every `everyRecords` records or `intervalMs` milliseconds per
 * log (whichever comes first, and only when the log grew), stores each in the store's
 * `checkpoints` table, then exports it (directory, optional HTTP endpoint). Used by the
 * ledger-writer and by embedded mode's writer thread.
 */
import {
  createTileNodeReader,
  hashRanges,
  signCheckpoint,
  type LedgerStore,
  type NoteSigner,
  type StoredCheckpoint,
} from '@phi-audit/ledger';
import { postCheckpoint, writeExportedCheckpoint } from './checkpoint-export.js';

/** The subset of a pino logger the checkpointer uses. */
export interface CheckpointLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CheckpointPolicy {
  /** Sign when this many records were added since the log's last checkpoint. Default 10,000. */
  everyRecords: number;
  /** Sign when the log grew and its last checkpoint is older than this. Default 10,000 ms. */
  intervalMs: number;
}

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = Object.freeze({ everyRecords: 10_000, intervalMs: 10_000 });

export interface CheckpointExportOptions {
  /** Directory receiving the latest checkpoint of each log (writeExportedCheckpoint). */
  dir?: string | undefined;
  /** HTTP endpoint receiving each checkpoint (postCheckpoint). */
  url?: string | undefined;
  token?: string | undefined;
}

/** Where an export goes: the directory or the HTTP endpoint. */
export type CheckpointExportTarget = 'dir' | 'url';

/** Notifications for metrics; called synchronously, must not throw. */
export interface CheckpointerHooks {
  /** A checkpoint was signed and stored. */
  signed?(checkpoint: StoredCheckpoint): void;
  /** Exporting a stored checkpoint to `target` failed (it is retried with the next one). */
  exportFailed?(origin: string, target: CheckpointExportTarget): void;
}

export interface CheckpointerOptions {
  signer: NoteSigner;
  /**
   * Where checkpoints are stored. With `readTiles`, the first time a log is seen the tree is
   * checked to extend the log's latest stored checkpoint (its root at that size, from the
   * tiles), so a log that was cut off and has grown again is never signed over.
   */
  store: Pick<LedgerStore, 'putCheckpoint' | 'latestCheckpoint'> & Partial<Pick<LedgerStore, 'readTiles'>>;
  policy?: Partial<CheckpointPolicy>;
  exportTo?: CheckpointExportOptions;
  logger: CheckpointLogger;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  hooks?: CheckpointerHooks;
  /**
   * Called under the log's lock right before a checkpoint of `origin` at `size` is signed (after
   * the log was loaded and checked): the writer makes sure what proofs at `size` need is stored
   * (embedded mode: the Merkle tiles it holds back between full tiles). A rejection skips that
   * signing; it is logged and retried like a store failure (next call, tick or flush).
   */
  beforeSign?: (origin: string, size: number) => Promise<void>;
}

export interface Checkpointer {
  /**
   * Tells the checkpointer that `origin` now has `size` records, stored (their tiles too, or by
   * `beforeSign` at the latest), and Merkle root `root`. Signs, stores and exports a checkpoint
   * now when `everyRecords` records were added since the log's last checkpoint (loaded from the
   * store the first time a log is seen); otherwise remembers it for flushDue(). Resolves with
   * the new checkpoint, if any. A failure to store or export is logged and retried on the next call; it never throws.
   */
  appended(origin: string, size: number, root: Buffer): Promise<StoredCheckpoint | undefined>;
  /** Signs every remembered log whose last checkpoint is older than intervalMs (the timer calls this). */
  flushDue(): Promise<StoredCheckpoint[]>;
  /** Signs every remembered log that grew since its last checkpoint, regardless of time. */
  flushAll(): Promise<StoredCheckpoint[]>;
  /** Drops what is remembered of `origin` (its partition moved to another writer). */
  forget(origin: string): void;
  /** Starts the interval timer (unref'd). */
  start(): void;
  /** Stops the timer, then flushAll(); exports in flight finish first. */
  close(): Promise<void>;
}

/** What the checkpointer knows of one log. */
interface LogMemory {
  readonly origin: string;
  /** undefined until the store's latest checkpoint was read. */
  loaded: boolean;
  lastCheckpointSize: number;
  /** signedAt of the last checkpoint; -Infinity when the log has none (due at once). */
  lastCheckpointAt: number;
  lastRootHex: string | undefined;
  pendingSize: number;
  pendingRoot: Buffer | undefined;
  /**
   * The log is shorter than (or differs from) its stored checkpoint: nothing more is signed for
   * it by this process, so the evidence (the stored and exported checkpoint) is never replaced.
   */
  refused: boolean;
  /** Serialises loading and signing of this log. */
  lock: Promise<unknown>;
  /** The export running now, and the newest checkpoint waiting for it (the latest wins). */
  exporting: Promise<void> | undefined;
  exportNext: StoredCheckpoint | undefined;
  /** The latest checkpoint whose export failed, and when; retried by flushDue after intervalMs. */
  exportFailed: { checkpoint: StoredCheckpoint; at: number } | undefined;
  /** The latest checkpoint stored (for re-exports). */
  latest: StoredCheckpoint | undefined;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`checkpoint ${name} must be a positive integer`);
  return value;
}

/** Error code (stable, no data) of a failure, for logs. */
function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/**
 * Creates a checkpointer. Logs carry origins, sizes and error codes only: never the key, never
 * a record. Throws RangeError for a policy that is not positive integers.
 */
export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { signer, store, logger } = options;
  const policy: CheckpointPolicy = { ...DEFAULT_CHECKPOINT_POLICY, ...options.policy };
  const everyRecords = positive('everyRecords', policy.everyRecords);
  const intervalMs = positive('intervalMs', policy.intervalMs);
  const now = options.now ?? Date.now;
  const exportDir = options.exportTo?.dir;
  const exportUrl = options.exportTo?.url;
  const exportToken = options.exportTo?.token;
  const hooks = options.hooks ?? {};
  const beforeSign = options.beforeSign;
  const logs = new Map<string, LogMemory>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let closed: Promise<void> | undefined;

  const memoryOf = (origin: string): LogMemory => {
    let mem = logs.get(origin);
    if (mem === undefined) {
      mem = {
        origin,
        loaded: false,
        lastCheckpointSize: 0,
        lastCheckpointAt: Number.NEGATIVE_INFINITY,
        lastRootHex: undefined,
        pendingSize: 0,
        pendingRoot: undefined,
        refused: false,
        lock: Promise.resolve(),
        exporting: undefined,
        exportNext: undefined,
        exportFailed: undefined,
        latest: undefined,
      };
      logs.set(origin, mem);
    }
    return mem;
  };

  /** Runs `fn` after everything queued on the log; the chain survives failures. */
  const withLock = <T>(mem: LogMemory, fn: () => Promise<T>): Promise<T> => {
    const run = mem.lock.then(fn, fn);
    mem.lock = run.catch(() => undefined);
    return run;
  };

  const remember = (mem: LogMemory, size: number, root: Buffer): void => {
    // Sizes only grow; a late report of a smaller size must not replace a newer one.
    if (size >= mem.pendingSize) {
      mem.pendingSize = size;
      mem.pendingRoot = root;
    }
  };

  /** Reads the log's latest stored checkpoint and checks the reported head against it. */
  const load = async (mem: LogMemory): Promise<boolean> => {
    if (mem.loaded) return true;
    let latest: StoredCheckpoint | undefined;
    try {
      latest = await store.latestCheckpoint(mem.origin);
    } catch (err) {
      // Not remembered as loaded: the next call reads again.
      logger.error({ origin: mem.origin, code: codeOf(err) }, 'could not read the latest checkpoint of the log');
      return false;
    }
    mem.loaded = true;
    if (latest === undefined) return true;
    mem.lastCheckpointSize = latest.size;
    mem.lastCheckpointAt = latest.signedAt;
    mem.lastRootHex = latest.rootHex;
    mem.latest = latest;
    if (latest.size > mem.pendingSize) {
      mem.refused = true;
      logger.error(
        { origin: mem.origin, size: mem.pendingSize, checkpointSize: latest.size },
        'the log is shorter than its latest signed checkpoint (truncated?): no checkpoint will be signed for it; run phi-audit verify',
      );
    } else if (latest.size === mem.pendingSize && mem.pendingRoot?.toString('hex') !== latest.rootHex) {
      mem.refused = true;
      logger.error(
        { origin: mem.origin, size: latest.size },
        'the log root differs from its latest signed checkpoint of the same size (rewritten?): no checkpoint will be signed for it; run phi-audit verify',
      );
    } else if (latest.size > 0 && latest.size < mem.pendingSize && store.readTiles !== undefined) {
      // The log grew past its checkpoint: its first `latest.size` leaves must still be the ones
      // signed. A log cut off and regrown (or rewritten) must not get a signature over the fork.
      const readTiles = store.readTiles.bind(store);
      let rootThen: Buffer | undefined;
      try {
        [rootThen] = await hashRanges(
          [[0, latest.size]],
          createTileNodeReader((ids) => readTiles(mem.origin, ids), latest.size),
        );
      } catch (err) {
        mem.loaded = false;
        logger.error(
          { origin: mem.origin, code: codeOf(err) },
          'could not check the log against its latest checkpoint; retrying later',
        );
        return false;
      }
      if (rootThen?.toString('hex') !== latest.rootHex) {
        mem.refused = true;
        logger.error(
          { origin: mem.origin, size: mem.pendingSize, checkpointSize: latest.size },
          'the log does not extend its latest signed checkpoint (cut off and regrown, or rewritten?): no checkpoint will be signed for it; run phi-audit verify',
        );
      }
    }
    return true;
  };

  const exportOne = async (checkpoint: StoredCheckpoint, at: number, mem: LogMemory): Promise<void> => {
    let failed = false;
    const fail = (target: CheckpointExportTarget, err: unknown): void => {
      failed = true;
      hooks.exportFailed?.(checkpoint.origin, target);
      logger.warn(
        { origin: checkpoint.origin, size: checkpoint.size, target, code: codeOf(err) },
        'checkpoint export failed; retried with the next checkpoint',
      );
    };
    const tasks: Promise<void>[] = [];
    if (exportDir !== undefined) {
      tasks.push(writeExportedCheckpoint(exportDir, checkpoint).catch((err: unknown) => fail('dir', err)));
    }
    if (exportUrl !== undefined) {
      tasks.push(
        postCheckpoint(exportUrl, checkpoint, { token: exportToken }).catch((err: unknown) => fail('url', err)),
      );
    }
    await Promise.all(tasks);
    if (failed) mem.exportFailed = { checkpoint, at };
    else if (mem.exportFailed !== undefined && mem.exportFailed.checkpoint.size <= checkpoint.size) {
      mem.exportFailed = undefined;
    }
  };

  /** Exports coalesce: at most one in flight per log; a newer checkpoint replaces a waiting one. */
  const scheduleExport = (mem: LogMemory, checkpoint: StoredCheckpoint): void => {
    if (exportDir === undefined && exportUrl === undefined) return;
    mem.exportNext = checkpoint;
    if (mem.exporting !== undefined) return;
    mem.exporting = (async () => {
      try {
        for (let next = mem.exportNext; next !== undefined; next = mem.exportNext) {
          mem.exportNext = undefined;
          await exportOne(next, now(), mem);
        }
      } finally {
        mem.exporting = undefined;
      }
    })();
  };

  /** Signs and stores the log's pending head when it grew; call under the log's lock. */
  const sign = async (mem: LogMemory): Promise<StoredCheckpoint | undefined> => {
    if (!(await load(mem)) || mem.refused) return undefined;
    const size = mem.pendingSize;
    const root = mem.pendingRoot;
    if (root === undefined || size <= mem.lastCheckpointSize) return undefined;
    if (beforeSign !== undefined) {
      try {
        await beforeSign(mem.origin, size);
      } catch (err) {
        // Not signed: the pending head stays, the next call (or tick) tries again.
        logger.error({ origin: mem.origin, size, code: codeOf(err) }, 'could not prepare the log for a checkpoint');
        return undefined;
      }
    }
    let checkpoint: StoredCheckpoint;
    try {
      const note = signCheckpoint({ origin: mem.origin, size, root }, signer);
      checkpoint = { origin: mem.origin, size, rootHex: root.toString('hex'), note, signedAt: now() };
      await store.putCheckpoint(checkpoint);
    } catch (err) {
      // The pending head stays: the next call (or tick) signs again.
      logger.error({ origin: mem.origin, size, code: codeOf(err) }, 'could not sign or store a checkpoint');
      return undefined;
    }
    mem.lastCheckpointSize = size;
    mem.lastCheckpointAt = checkpoint.signedAt;
    mem.lastRootHex = checkpoint.rootHex;
    mem.latest = checkpoint;
    hooks.signed?.(checkpoint);
    scheduleExport(mem, checkpoint);
    return checkpoint;
  };

  const due = (mem: LogMemory, at: number): boolean =>
    !mem.refused &&
    mem.pendingSize > mem.lastCheckpointSize &&
    (mem.pendingSize - mem.lastCheckpointSize >= everyRecords || at - mem.lastCheckpointAt >= intervalMs);

  const flush = async (which: (mem: LogMemory) => boolean): Promise<StoredCheckpoint[]> => {
    const signed = await Promise.all(
      [...logs.values()].filter(which).map((mem) =>
        withLock(mem, async () => {
          // Re-checked under the lock: an append may have signed it meanwhile.
          return which(mem) ? sign(mem) : undefined;
        }),
      ),
    );
    return signed.filter((c): c is StoredCheckpoint => c !== undefined);
  };

  const retryFailedExports = (at: number): void => {
    for (const mem of logs.values()) {
      const failed = mem.exportFailed;
      if (failed === undefined || mem.exporting !== undefined || at - failed.at < intervalMs) continue;
      mem.exportFailed = undefined;
      scheduleExport(mem, mem.latest ?? failed.checkpoint);
    }
  };

  const checkpointer: Checkpointer = {
    appended(origin, size, root) {
      const mem = memoryOf(origin);
      remember(mem, size, root);
      // The common case stays synchronous: loaded, nothing due by count.
      if (mem.loaded && (mem.refused || size - mem.lastCheckpointSize < everyRecords)) {
        return Promise.resolve(undefined);
      }
      return withLock(mem, async () => {
        if (!(await load(mem)) || mem.refused) return undefined;
        return mem.pendingSize - mem.lastCheckpointSize >= everyRecords ? sign(mem) : undefined;
      });
    },
    async flushDue() {
      const at = now();
      retryFailedExports(at);
      // Logs not yet loaded (their first call is still reading the store) wait for that call.
      return flush((mem) => mem.loaded && due(mem, at));
    },
    flushAll() {
      return flush((mem) => !mem.refused && (!mem.loaded || mem.pendingSize > mem.lastCheckpointSize));
    },
    forget(origin) {
      logs.delete(origin);
    },
    start() {
      if (timer !== undefined || closed !== undefined) return;
      timer = setInterval(
        () => {
          // One tick at a time: a slow store must not pile up flushes.
          if (ticking) return;
          ticking = true;
          checkpointer
            .flushDue()
            .catch((err: unknown) => logger.error({ code: codeOf(err) }, 'checkpoint flush failed'))
            .finally(() => {
              ticking = false;
            });
        },
        Math.min(intervalMs, 1_000),
      );
      timer.unref();
    },
    close() {
      closed ??= (async () => {
        if (timer !== undefined) clearInterval(timer);
        timer = undefined;
        await checkpointer.flushAll();
        // Exports in flight (and the ones they coalesced) finish before close resolves.
        for (;;) {
          const running = [...logs.values()].map((m) => m.exporting).filter((p) => p !== undefined);
          if (running.length === 0) break;
          await Promise.all(running);
        }
      })();
      return closed;
    },
  };
  return checkpointer;
}
