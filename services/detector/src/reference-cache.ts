import { errorSummary, type BusLogger } from '@phi-audit/bus-kafka';
import { createReferenceIndex, type DetectionStore, type ReferenceIndex } from '@phi-audit/rules';
import { DetectorError } from './errors.js';
import type { DetectorMetrics } from './metrics.js';

/** The index of a tenant with no reference data: the rules that need none (bulk reads, …) still run. */
const EMPTY_INDEX: ReferenceIndex = createReferenceIndex({ patients: [], workforce: [], relationships: [] });

interface Held {
  version: number;
  index: ReferenceIndex;
}

/** Each tenant's reference data as a lookup index, loaded from the detection store and kept current. */
export interface ReferenceCache {
  /** Loads the tenants not seen yet. Throws DETECTOR_REFERENCE_FAILED: their events must wait. */
  ensure(tenants: Iterable<string>): Promise<void>;
  /** The tenant's current index (synchronous: the engine calls it per event). */
  indexFor(tenant: string): ReferenceIndex;
  /**
   * Reloads every known tenant whose latest version in the store is newer than the one held.
   * The index is swapped in one assignment, so an event sees the old data or the new, never a
   * mix. A failed reload keeps the old index (logged, counted) and is retried on the next call.
   */
  refresh(): Promise<void>;
  /** Tenant → reference version held. */
  versions(): Map<string, number>;
}

export function createReferenceCache(options: {
  store: Pick<DetectionStore, 'referenceData' | 'referenceVersions'>;
  logger: BusLogger;
  metrics?: DetectorMetrics;
}): ReferenceCache {
  const { store, logger, metrics } = options;
  const held = new Map<string, Held>();

  async function load(tenant: string): Promise<Held> {
    const { version, data } = await store.referenceData(tenant);
    return { version, index: version === 0 ? EMPTY_INDEX : createReferenceIndex(data) };
  }

  return {
    async ensure(tenants) {
      for (const tenant of tenants) {
        if (held.has(tenant)) continue;
        try {
          const loaded = await load(tenant);
          held.set(tenant, loaded);
          metrics?.referenceLoads.inc({ outcome: 'ok' });
          logger.info({ tenant, version: loaded.version }, 'reference data loaded');
        } catch (error) {
          metrics?.referenceLoads.inc({ outcome: 'failed' });
          throw new DetectorError(
            'DETECTOR_REFERENCE_FAILED',
            `could not load the reference data of tenant ${tenant}`,
            {
              cause: error,
            },
          );
        }
      }
    },
    indexFor: (tenant) => held.get(tenant)?.index ?? EMPTY_INDEX,
    async refresh() {
      let latest: Map<string, number>;
      try {
        latest = await store.referenceVersions();
      } catch (error) {
        logger.warn(errorSummary(error), 'could not poll reference versions; retrying at the next poll');
        return;
      }
      for (const [tenant, current] of held) {
        const version = latest.get(tenant) ?? 0;
        if (version <= current.version) continue;
        try {
          const loaded = await load(tenant);
          held.set(tenant, loaded);
          metrics?.referenceLoads.inc({ outcome: 'ok' });
          logger.info({ tenant, from: current.version, version: loaded.version }, 'reference data reloaded');
        } catch (error) {
          metrics?.referenceLoads.inc({ outcome: 'failed' });
          logger.warn(
            { tenant, version, kept: current.version, ...errorSummary(error) },
            'reference data reload failed; keeping the loaded version',
          );
        }
      }
    },
    versions: () => new Map([...held].map(([t, h]) => [t, h.version])),
  };
}
