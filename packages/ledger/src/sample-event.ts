import type { AccessEvent } from '@phi-audit/schema';

/**
 * A deterministic, valid AccessEvent for tests, benchmarks and demos: event `i` of a small
 * synthetic clinic. Synthetic identifiers only, never real PHI.
 */
export function sampleEvent(i: number, overrides: Partial<AccessEvent> = {}): AccessEvent {
  return {
    eventId: `evt-${i}`,
    tenant: 'clinic-a',
    occurredAt: 1_714_573_800_000 + i * 1000,
    receivedAt: 1_714_573_800_500 + i * 1000,
    source: { system: 'ehr', site: 'main' },
    actor: { userId: `u${i % 7}`, role: 'physician', department: 'cardiology', workstation: 'ws-12' },
    patient: { id: `p${i % 11}` },
    action: 'view',
    resource: { type: 'Encounter', id: `enc-${i}` },
    outcome: 'success',
    ...overrides,
  };
}
