import { InvalidArgumentError, type Command } from 'commander';
import { createFacility, createTrafficGenerator, type ProfileName, type SimEventBody } from '@phi-audit/simulator';
import { createReferenceFeeder, ReferenceRefusedError, type ReferenceFeeder } from './demo-reference.js';

const DAY_MS = 86_400_000;
/** Longest a 503 or unreachable collector is retried before the demo gives up. */
const GIVE_UP_AFTER_MS = 60_000;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  url: string;
  key: string;
  profile: ProfileName;
  /** Events per second (an upper bound once the simulation has caught up with the clock). */
  rate: number;
  /** Seconds; 0 runs until `signal` aborts. */
  durationSeconds: number;
  seed: number;
  /** Most events per request. */
  batch: number;
  /** How far back the simulated clock starts (days, under the collector's 30-day window). */
  sinceDays: number;
  /**
   * Load the facility's patients, workforce and relationships through the reference API before
   * the events (and each simulated day's relationships as the simulation reaches it). Default true.
   */
  reference?: boolean;
  /** Labeled snooping scenarios planted per simulated day (family, VIP, bulk export, …); 0 = none. */
  scenariosPerDay?: number;
  /** Progress lines go here (stderr): counts only, never event contents. */
  err: NodeJS.WritableStream;
  isTTY: boolean;
  signal: AbortSignal;
}

export interface DemoSummary {
  sent: number;
  accepted: number;
  rejected: number;
  errors: number;
  retries: number;
  seconds: number;
  /** Reference records loaded, and in how many loads (0 with `reference: false` or when the server has none). */
  referenceRecords: number;
  referenceLoads: number;
}

/** The collector refused a request for a reason retrying cannot fix (bad key, bad event, …). */
export class DemoRejectedError extends Error {
  override readonly name = 'DemoRejectedError';
  constructor(
    message: string,
    readonly summary: DemoSummary,
  ) {
    super(message);
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The server's error message (the collector's `{ error: { code, message, details } }`), shortened. */
async function describeRejection(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: { message?: string }[] } };
    const detail = body.error?.details?.[0]?.message;
    return `${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? text.slice(0, 200)}${detail ? ` (first problem: ${detail})` : ''}`;
  } catch {
    return `${response.status}: ${text.slice(0, 200) || response.statusText}`;
  }
}

/**
 * Posts one batch until the collector takes it. 503 and network failures are retried with
 * back-off and the same event ids (the ledger is idempotent on them); any other non-2xx is final.
 */
async function postBatch(
  options: DemoOptions,
  events: SimEventBody[],
  summary: DemoSummary,
): Promise<{ ok: true; accepted: number } | { ok: false; message: string } | { ok: 'aborted' }> {
  const giveUpAt = Date.now() + GIVE_UP_AFTER_MS;
  let delay = 250;
  let last = '';
  for (;;) {
    try {
      const response = await fetch(`${options.url.replace(/\/+$/, '')}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      });
      if (response.ok) {
        const body = (await response.json()) as { accepted?: number };
        return { ok: true, accepted: body.accepted ?? 0 };
      }
      if (response.status !== 503) return { ok: false, message: await describeRejection(response) };
      const retryAfter = Number(response.headers.get('retry-after'));
      last = await describeRejection(response);
      if (Number.isFinite(retryAfter) && retryAfter > 0) delay = Math.max(delay, retryAfter * 1000);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      last = `cannot reach ${options.url} (${cause?.code ?? (error as Error).message})`;
    }
    summary.errors += 1;
    if (Date.now() + delay > giveUpAt)
      return { ok: false, message: `gave up after ${GIVE_UP_AFTER_MS / 1000} s: ${last}` };
    if (options.signal.aborted) return { ok: 'aborted' };
    summary.retries += 1;
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, 10_000);
  }
}

/**
 * Sends realistic synthetic EHR traffic to a collector. The simulated facility starts
 * `sinceDays` ago and its events keep their simulated times (so opening hours and shifts look
 * real and every event falls within the collector's accepted window); they are sent at `rate`
 * per second and, once the simulation reaches the present, no faster than they happen.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const facility = createFacility({
    profile: options.profile,
    seed: options.seed,
    asOf: started - options.sinceDays * DAY_MS,
  });
  const generator = createTrafficGenerator({
    facility,
    start: started - options.sinceDays * DAY_MS,
    runId: `demo-${options.seed}-${started.toString(36)}`,
    ...(options.scenariosPerDay ? { scenarios: { perDay: options.scenariosPerDay } } : {}),
  });
  const summary: DemoSummary = {
    sent: 0,
    accepted: 0,
    rejected: 0,
    errors: 0,
    retries: 0,
    seconds: 0,
    referenceRecords: 0,
    referenceLoads: 0,
  };
  const reference: ReferenceFeeder | undefined =
    options.reference === false
      ? undefined
      : createReferenceFeeder({
          url: options.url,
          key: options.key,
          facility,
          start: started - options.sinceDays * DAY_MS,
          err: options.err,
        });
  /** Loads reference data (`step`); a refusal (bad key, invalid records) ends the demo like a refused event. */
  const feed = async (step: (r: ReferenceFeeder) => Promise<void>): Promise<void> => {
    if (reference === undefined) return;
    try {
      await step(reference);
    } catch (error) {
      if (!(error instanceof ReferenceRefusedError)) throw error;
      summary.seconds = elapsed();
      throw new DemoRejectedError(error.message, summary);
    } finally {
      summary.referenceRecords = reference.progress.records;
      summary.referenceLoads = reference.progress.loads;
    }
  };
  // Smaller requests at low rates, so a newcomer sees data arrive steadily.
  const batchSize = Math.max(1, Math.min(options.batch, Math.ceil(options.rate / 4)));
  // Pacing and the duration count from when events start, after the reference data is loaded.
  let sendStart = started;
  let deadline = Infinity;
  const elapsed = (): number => (Date.now() - started) / 1000;
  let lastProgress = 0;
  const progress = (final: boolean): void => {
    const simulated =
      summary.sent > 0 ? new Date(generator.peekTime()).toISOString().slice(0, 16).replace('T', ' ') : '-';
    const line = `demo ${options.profile}: sent ${summary.sent}, accepted ${summary.accepted}, rejected ${summary.rejected}, errors ${summary.errors} | ${(summary.sent / Math.max((Date.now() - sendStart) / 1000, 0.001)).toFixed(1)} events/s | simulated clock ${simulated} UTC`;
    if (options.isTTY) options.err.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else options.err.write(`${line}\n`);
  };

  await feed((r) => r.loadInitial());
  sendStart = Date.now();
  if (options.durationSeconds > 0) deadline = sendStart + options.durationSeconds * 1000;
  while (!options.signal.aborted) {
    // Batch k is due when rate × elapsed reaches its first event: exactly rate × duration events in all.
    const due = sendStart + (summary.sent / options.rate) * 1000;
    // The clock check matters once the simulation has caught up with the present: `sent` stops
    // growing, so `due` alone would never reach the deadline.
    if (due >= deadline || Date.now() >= deadline) break;
    await sleep(due - Date.now(), options.signal);
    const live = generator.peekTime() - Date.now();
    if (live > 0) {
      await sleep(Math.min(live, deadline - Date.now(), 1_000), options.signal);
      continue;
    }
    if (options.signal.aborted) break;
    const events: SimEventBody[] = [];
    let simulatedNow = 0;
    while (events.length < batchSize && generator.peekTime() <= Date.now()) {
      const event = generator.next();
      simulatedNow = event.at;
      events.push(event.body);
    }
    // Each simulated day's relationships are loaded before its events (a day ahead).
    await feed((r) => r.advanceTo(simulatedNow));
    summary.sent += events.length;
    const result = await postBatch(options, events, summary);
    if (result.ok === 'aborted') break;
    if (result.ok === false) {
      summary.rejected += events.length;
      summary.seconds = elapsed();
      progress(true);
      throw new DemoRejectedError(`the collector did not accept the events: ${result.message}`, summary);
    }
    summary.accepted += result.accepted;
    if (Date.now() - lastProgress >= 2_000) {
      lastProgress = Date.now();
      progress(false);
    }
  }
  summary.seconds = elapsed();
  progress(true);
  return summary;
}

function positive(what: string, allowZero = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
      throw new InvalidArgumentError(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
    }
    return n;
  };
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
}

/** `phi-audit demo`: sends realistic synthetic clinic or hospital traffic to a running collector. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Send realistic synthetic EHR access events (a clinic or a hospital) to a running collector')
    .option('--url <url>', 'collector base URL', 'http://127.0.0.1:8080')
    .option('--key <key>', 'ingest key (default: $PHI_AUDIT_INGEST_KEY)')
    .option('--profile <profile>', 'clinic or hospital', 'clinic')
    .option('--rate <events/s>', 'events per second', positive('--rate'), 20)
    .option('--duration <seconds>', 'how long to send; 0 = until Ctrl-C', positive('--duration', true), 60)
    .option('--seed <n>', 'seed of the simulated facility', wholeNumber, 1)
    .option('--batch <n>', 'most events per request (1-5000)', wholeNumber, 50)
    .option('--since <days>', 'start the simulated clock this many days ago (at most 29)', positive('--since'), 7)
    .option(
      '--scenarios <perDay>',
      'plant this many labeled snooping scenarios per simulated day (family, coworker, neighbour, VIP, self-access, after-hours, bulk export, terminated user, deceased patient, break-the-glass misuse)',
      wholeNumber,
      0,
    )
    .option('--no-reference', "do not load the facility's patients, workforce and relationships (reference data)")
    .action(
      async (opts: {
        url: string;
        key?: string;
        profile: string;
        rate: number;
        duration: number;
        seed: number;
        batch: number;
        since: number;
        scenarios: number;
        reference: boolean;
      }) => {
        const key = opts.key ?? process.env.PHI_AUDIT_INGEST_KEY;
        if (!key)
          throw new Error(
            'an ingest key is required: --key <key> or PHI_AUDIT_INGEST_KEY (create one with `phi-audit keys create`)',
          );
        if (opts.profile !== 'clinic' && opts.profile !== 'hospital')
          throw new Error('--profile must be clinic or hospital');
        if (opts.batch < 1 || opts.batch > 5000) throw new Error('--batch must be between 1 and 5000');
        if (opts.since > 29)
          throw new Error('--since must be at most 29 days (the collector accepts events up to 30 days old)');
        const controller = new AbortController();
        const stop = (): void => {
          if (controller.signal.aborted) process.exit(130);
          controller.abort();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        try {
          const summary = await runDemo({
            url: opts.url,
            key,
            profile: opts.profile,
            rate: opts.rate,
            durationSeconds: opts.duration,
            seed: opts.seed,
            batch: opts.batch,
            sinceDays: opts.since,
            reference: opts.reference,
            scenariosPerDay: opts.scenarios,
            err: process.stderr,
            isTTY: process.stderr.isTTY === true,
            signal: controller.signal,
          });
          process.stdout.write(
            `demo finished: sent ${summary.sent}, accepted ${summary.accepted}, rejected ${summary.rejected}, errors ${summary.errors}, retries ${summary.retries} in ${summary.seconds.toFixed(1)} s; reference data: ${summary.referenceRecords} records in ${summary.referenceLoads} loads\n`,
          );
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      },
    );
}
