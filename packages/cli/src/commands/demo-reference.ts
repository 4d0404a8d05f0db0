import {
  fromSimulator,
  referenceKey,
  type ReferenceKind,
  type ReferenceRecordOf,
  type SimulatorReferenceData,
} from '@phi-audit/rules';
import { PLAN_HORIZON_DAYS, type Facility } from '@phi-audit/simulator';

/** Records per request: well under the API's 100,000 and its 64 MiB body limit. */
const RECORDS_PER_LOAD = 50_000;

/** What happened to the demo's reference data, for the summary line. */
export interface ReferenceProgress {
  loads: number;
  records: number;
  /** Set when the server has no reference API or store: the warning printed, events continue. */
  skipped?: string;
}

/** The reference API refused the data for a reason the demo must stop on (bad key, invalid records). */
export class ReferenceRefusedError extends Error {
  override readonly name = 'ReferenceRefusedError';
}

/** Options of {@link createReferenceFeeder}. */
export interface ReferenceFeederOptions {
  url: string;
  key: string;
  facility: Facility;
  /** Simulated time of the first event. */
  start: number;
  /** The one warning goes here (stderr). */
  err: NodeJS.WritableStream;
}

/** Loads a simulated facility's reference data through the API, a day ahead of the simulation. */
export interface ReferenceFeeder {
  /** Patients, workforce and the relationships from PLAN_HORIZON_DAYS before the start to a day after it. */
  loadInitial(): Promise<void>;
  /** Loads the relationships of each day up to the day after `simulatedNow` not loaded yet. */
  advanceTo(simulatedNow: number): Promise<void>;
  readonly progress: ReferenceProgress;
}

/** `{ code, message }` of the server's error body, or the start of its text. */
async function describeError(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; problems?: { message?: string }[] } };
    const first = body.error?.problems?.[0]?.message;
    return `${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? text.slice(0, 200)}${first ? ` (first problem: ${first})` : ''}`;
  } catch {
    return `${response.status}: ${text.slice(0, 200) || response.statusText}`;
  }
}

/** The records of one kind without repeats of a key (one load may not repeat one). */
function distinct<K extends ReferenceKind>(kind: K, records: readonly ReferenceRecordOf[K][]): ReferenceRecordOf[K][] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = referenceKey(kind, r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Feeds the facility's reference data to `POST /v1/reference/:kind` so the detector sees who the
 * patients and staff are and which care relationships exist. A server without reference data
 * (404: an older server, 503: no detection store, or any other 5xx or network failure) gets one
 * warning and no more attempts: the demo's events still flow. A 4xx is final: the key is wrong or
 * the records are, and retrying cannot fix either.
 */
export function createReferenceFeeder(options: ReferenceFeederOptions): ReferenceFeeder {
  const { facility } = options;
  const progress: ReferenceProgress = { loads: 0, records: 0 };
  const firstDay = facility.dayOf(options.start) - PLAN_HORIZON_DAYS;
  let loadedThrough = firstDay - 1;
  const base = options.url.replace(/\/+$/, '');

  const skip = (why: string): void => {
    progress.skipped = why;
    options.err.write(
      `phi-audit demo: warning: reference data was not loaded (${why}); continuing with events only, so detection has no patient, staff or relationship data\n`,
    );
  };

  const post = async <K extends ReferenceKind>(kind: K, records: readonly ReferenceRecordOf[K][]): Promise<void> => {
    for (let i = 0; i < records.length && progress.skipped === undefined; i += RECORDS_PER_LOAD) {
      const chunk = records.slice(i, i + RECORDS_PER_LOAD);
      let response: Response;
      try {
        response = await fetch(`${base}/v1/reference/${kind}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ records: chunk }),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        skip(`cannot reach ${options.url}: ${cause?.code ?? (error as Error).message}`);
        return;
      }
      if (response.ok) {
        await response.body?.cancel();
        progress.loads += 1;
        progress.records += chunk.length;
        continue;
      }
      const message = await describeError(response);
      if (response.status === 404 || response.status >= 500) {
        skip(message);
        return;
      }
      throw new ReferenceRefusedError(`the reference API refused the ${kind}: ${message}`);
    }
  };

  const relationshipsOf = (fromDay: number, toDay: number): SimulatorReferenceData['relationships'] => {
    const relationships: SimulatorReferenceData['relationships'][number][] = [];
    for (let day = fromDay; day <= toDay; day++) relationships.push(...facility.planDay(day).relationships);
    return relationships;
  };

  const loadRelationships = async (through: number): Promise<void> => {
    if (through <= loadedThrough || progress.skipped !== undefined) return;
    const data = fromSimulator({
      timeZone: facility.timeZone,
      patients: [],
      workforce: [],
      relationships: relationshipsOf(loadedThrough + 1, through),
    });
    loadedThrough = through;
    if (data.relationships.length > 0) await post('relationships', distinct('relationships', data.relationships));
  };

  return {
    progress,
    async loadInitial() {
      const through = facility.dayOf(options.start) + 1;
      const data = fromSimulator({
        timeZone: facility.timeZone,
        patients: facility.patients,
        workforce: facility.workforce,
        relationships: relationshipsOf(firstDay, through),
      });
      loadedThrough = through;
      await post('workforce', distinct('workforce', data.workforce));
      await post('patients', distinct('patients', data.patients));
      await post('relationships', distinct('relationships', data.relationships));
    },
    async advanceTo(simulatedNow) {
      await loadRelationships(facility.dayOf(simulatedNow) + 1);
    },
  };
}
