/**
 * Seeded synthetic EHR access events for tests and benchmarks: reproducible for a seed,
 * unique event ids per run. (The realistic clinic/hospital generator of `phi-audit demo`
 * grows out of this.)
 */

/** mulberry32: a tiny, well-known seeded PRNG; reproducibility matters here, not quality. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROLES = ['physician', 'nurse', 'front_desk', 'billing', 'pharmacist'] as const;
const DEPARTMENTS = ['cardiology', 'emergency', 'oncology', 'primary_care', 'radiology'] as const;
const ACTIONS = ['view', 'view', 'view', 'view', 'update', 'create', 'print', 'query', 'export'] as const;
const RESOURCES = ['Patient', 'Encounter', 'Observation', 'MedicationRequest', 'DocumentReference'] as const;

export interface SyntheticOptions {
  seed: number;
  /** Prefix that makes event ids unique across runs. */
  runId: string;
  tenants: readonly string[];
  usersPerTenant?: number;
  patientsPerTenant?: number;
  /** Event time base, epoch ms; events spread over the preceding hour. */
  now?: number;
}

/** The JSON body an EHR would post for one event (tenant and source come from the ingest key). */
export interface PostedEvent {
  eventId: string;
  occurredAt: string;
  actor: { userId: string; role: string; department: string; workstation: string };
  patient: { id: string };
  action: string;
  resource: { type: string; id: string };
  outcome: 'success' | 'failure';
  recordCount?: number;
}

/** Returns a generator of events for one tenant at a time; `next(tenant)` is deterministic for the seed. */
export function createSyntheticEvents(options: SyntheticOptions): {
  next(tenant: string): PostedEvent;
  count(): number;
} {
  const random = seededRandom(options.seed);
  const users = options.usersPerTenant ?? 40;
  const patients = options.patientsPerTenant ?? 2_000;
  const now = options.now ?? Date.now();
  let n = 0;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return {
    count: () => n,
    next(tenant) {
      n += 1;
      const user = Math.floor(random() * users);
      const action = pick(ACTIONS);
      const event: PostedEvent = {
        eventId: `${options.runId}-${n}`,
        occurredAt: new Date(now - Math.floor(random() * 3_600_000)).toISOString(),
        actor: {
          userId: `${tenant}-u${user}`,
          role: ROLES[user % ROLES.length] as string,
          department: DEPARTMENTS[user % DEPARTMENTS.length] as string,
          workstation: `ws-${user % 17}`,
        },
        patient: { id: `MRN${100000 + Math.floor(random() * patients)}` },
        action,
        resource: { type: pick(RESOURCES), id: `r${Math.floor(random() * 1e9)}` },
        outcome: random() < 0.02 ? 'failure' : 'success',
      };
      if (action === 'query' || action === 'export') event.recordCount = 1 + Math.floor(random() * 50);
      return event;
    },
  };
}
