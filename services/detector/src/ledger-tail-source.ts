import { errorSummary, type BusLogger } from '@phi-audit/bus-kafka';
import type { LedgerStore, StoredRecord } from '@phi-audit/ledger';
import type { DetectorCursorStore } from '@phi-audit/rules';
import type { AccessEvent } from '@phi-audit/schema';
import type { DetectorHost } from './detector-host.js';
import type { DetectorMetrics } from './metrics.js';

export const DEFAULT_TAIL_POLL_MS = 500;
/** The cursor name of the embedded detector in the detection store. */
export const LEDGER_TAIL_CURSOR = 'detector';
const DEFAULT_BATCH_RECORDS = 5_000;

/** What the tail reads of the ledger: a read-only connection is enough. */
export type LedgerReader = Pick<LedgerStore, 'heads' | 'scan'> & {
  recordsAt(origin: string, indexes: readonly number[]): Promise<StoredRecord[]>;
};

export interface LedgerTailSourceOptions {
  ledger: LedgerReader;
  cursors: DetectorCursorStore;
  host: DetectorHost;
  logger: BusLogger;
  metrics?: DetectorMetrics;
  /** Default 500 ms. */
  pollMs?: number;
  /** On (re)start each log is rewound this far behind its newest event time (default 26 h). */
  replayMs?: number;
  /** Records read per log per round. Default 5,000. */
  batchRecords?: number;
  /** Default LEDGER_TAIL_CURSOR. */
  cursorName?: string;
}

interface LogPosition {
  /** Next index to process. */
  next: number;
  /** Records in the log at the last look. */
  size: number;
}

function occurredAtOf(record: StoredRecord): number {
  return (JSON.parse(record.eventJson) as { occurredAt: number }).occurredAt;
}

/**
 * The embedded-mode event source: tails every log of the SQLite ledger (one per tenant) in index
 * order, runs the events through the host, flushes the alerts and only then saves the cursor
 * (next index per log) in the detection store. A crash between the two replays a little; alert
 * ids are deterministic and the store merges, so the replay changes nothing.
 *
 * On start each log is rewound to the first index whose event time is at least (the log's
 * newest event time − `replayMs`), or to its cursor if that is earlier, so bulk-read windows
 * and day-level rules see the open days again. The first index is found by binary search over
 * event time, which assumes a log is roughly in event-time order (events arrive within minutes
 * of happening); an event out of that order only moves where the replay starts.
 */
export class LedgerTailSource {
  readonly #o: LedgerTailSourceOptions;
  readonly #cursorName: string;
  readonly #positions = new Map<string, LogPosition>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopping = false;
  #flushFailing = false;
  #started = false;

  constructor(options: LedgerTailSourceOptions) {
    this.#o = options;
    this.#cursorName = options.cursorName ?? LEDGER_TAIL_CURSOR;
  }

  get healthy(): boolean {
    return this.#started && !this.#stopping && !this.#flushFailing;
  }

  /** Records in the ledger not yet processed, per log. */
  lag(): { key: string; lag: number }[] {
    return [...this.#positions].map(([origin, p]) => ({ key: origin, lag: Math.max(0, p.size - p.next) }));
  }

  /** Reads the cursor, rewinds every log for the replay and starts polling. */
  async start(): Promise<void> {
    const saved = await this.#o.cursors.cursor(this.#cursorName);
    for (const head of await this.#o.ledger.heads()) {
      const cursor = saved.get(head.origin) ?? 0;
      const replay = await this.#replayStart(head.origin, head.size);
      const next = Math.min(cursor, replay);
      this.#positions.set(head.origin, { next, size: head.size });
      if (next < cursor) {
        this.#o.logger.info(
          { origin: head.origin, from: next, cursor },
          'replaying the log’s recent events to rebuild detection state',
        );
      }
    }
    this.#started = true;
    this.#schedule(0);
  }

  async #replayStart(origin: string, size: number): Promise<number> {
    if (size === 0) return 0;
    const at = async (index: number): Promise<number> => {
      const [record] = await this.#o.ledger.recordsAt(origin, [index]);
      return record === undefined ? Number.POSITIVE_INFINITY : occurredAtOf(record);
    };
    const threshold = (await at(size - 1)) - (this.#o.replayMs ?? 26 * 3_600_000);
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await at(mid)) >= threshold) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #schedule(delay: number): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#round = this.#runRound()
        .then(
          (more) => this.#schedule(more ? 0 : (this.#o.pollMs ?? DEFAULT_TAIL_POLL_MS)),
          (error: unknown) => {
            this.#o.logger.error(errorSummary(error), 'detector round failed; retrying');
            this.#schedule(this.#o.pollMs ?? DEFAULT_TAIL_POLL_MS);
          },
        )
        .finally(() => (this.#round = undefined));
    }, delay);
  }

  /** One round: read what is new in every log, process it, flush, save the cursor. True if more is waiting. */
  async #runRound(): Promise<boolean> {
    const { ledger, host, logger, metrics } = this.#o;
    const batch = this.#o.batchRecords ?? DEFAULT_BATCH_RECORDS;
    let more = false;
    // While alerts cannot be stored, read nothing more: pending alerts stay bounded.
    if (!this.#flushFailing) {
      for (const head of await ledger.heads()) {
        const position = this.#positions.get(head.origin) ?? { next: 0, size: 0 };
        position.size = head.size;
        this.#positions.set(head.origin, position);
        if (position.next >= head.size) continue;
        const events: AccessEvent[] = [];
        let next = position.next;
        for await (const record of ledger.scan(head.origin, { fromIndex: position.next })) {
          try {
            events.push(JSON.parse(record.eventJson) as AccessEvent);
          } catch {
            // The ledger stores canonical JSON of validated events; `phi-audit verify` reports tampering.
            metrics?.decodeFailures.inc({ kind: 'not_json' });
          }
          next = record.index + 1;
          if (next - position.next >= batch || this.#stopping) break;
        }
        await host.process(events);
        position.next = next;
        if (next < head.size) more = true;
      }
    }
    const snapshot = new Map([...this.#positions].map(([origin, p]) => [origin, p.next]));
    try {
      await host.flush();
      this.#flushFailing = false;
    } catch (error) {
      this.#flushFailing = true;
      logger.error(errorSummary(error), 'alert flush failed; the cursor is not moved, retrying');
      return false;
    }
    // After the flush, never before: a saved position means its alerts are stored.
    await this.#o.cursors.saveCursor(this.#cursorName, snapshot);
    return more;
  }

  /** Stops polling; the round in progress finishes (its flush and cursor save), then a final flush and save. */
  async close(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#round;
    if (!this.#started) return;
    const snapshot = new Map([...this.#positions].map(([origin, p]) => [origin, p.next]));
    try {
      await this.#o.host.flush();
      await this.#o.cursors.saveCursor(this.#cursorName, snapshot);
    } catch (error) {
      this.#o.logger.error(
        errorSummary(error),
        'final alert flush failed; the next start replays from the saved cursor',
      );
    }
  }
}

/** Creates a (not yet started) ledger tail; call `start()`. */
export function createLedgerTailSource(options: LedgerTailSourceOptions): LedgerTailSource {
  return new LedgerTailSource(options);
}
