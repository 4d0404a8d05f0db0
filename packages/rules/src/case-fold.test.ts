import { describe, expect, it } from 'vitest';
import { foldCase, foldCases } from './case-fold.js';
import { compareCaseEvents, type CaseEvent } from './case-store.js';

const CASE = '6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';
const OTHER = '7a2d3c8f-2e3b-4d4c-8f90-1b2c3d4e5f60';
const A1 = 'a'.repeat(64);
const A2 = 'b'.repeat(64);
const A3 = 'c'.repeat(64);
let n = 0;
const eventId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
const base = (at: number, by = 'po', caseId = CASE) => ({ tenant: 'clinic-a', caseId, eventId: eventId(), at, by });

const opened = (at = 1000, caseId = CASE): CaseEvent => ({
  ...base(at, 'po', caseId),
  kind: 'opened',
  title: 'Snooping on a neighbour',
  summary: 'Two alerts for the same user and patient.',
  alertIds: [A1, A2],
  discoveredOn: '2026-03-10',
});
const factor = (level: 'low' | 'medium' | 'high') => ({ level, notes: 'assessed by the privacy office' });
const factors = {
  natureAndExtent: factor('high'),
  unauthorizedPerson: factor('medium'),
  acquiredOrViewed: factor('high'),
  mitigation: factor('low'),
};

describe('foldCase', () => {
  it('a case just opened: open, its alerts, discovery day of the opening', () => {
    const e = opened();
    expect(foldCase([e])).toEqual({
      caseId: CASE,
      tenant: 'clinic-a',
      title: 'Snooping on a neighbour',
      summary: 'Two alerts for the same user and patient.',
      status: 'open',
      openedAt: 1000,
      openedBy: 'po',
      updatedAt: 1000,
      alertIds: [A1, A2],
      notes: [],
      discoveredOn: '2026-03-10',
      history: [e],
    });
  });

  it('folds notes in order, the latest status, linked alerts once each, the latest assessment and breach facts', () => {
    const events: CaseEvent[] = [
      opened(),
      { ...base(2000, 'inv'), kind: 'note', text: 'first note' },
      { ...base(3000), kind: 'status', status: 'investigating', reason: 'started' },
      { ...base(4000), kind: 'alerts_linked', alertIds: [A2, A3] },
      { ...base(4500), kind: 'alerts_linked', alertIds: [A3, A1] },
      { ...base(5000), kind: 'assessment', factors, conclusion: 'low_probability_of_compromise', rationale: 'one' },
      { ...base(6000), kind: 'assessment', factors, conclusion: 'breach', rationale: 'two' },
      {
        ...base(7000),
        kind: 'breach_facts',
        discoveredOn: '2026-03-08',
        affectedIndividuals: 800,
        largestJurisdictionCount: 600,
        reason: 'counted',
      },
      { ...base(8000), kind: 'breach_facts', discoveredOn: '2026-03-07', affectedIndividuals: 3, reason: 'recount' },
      { ...base(9000, 'inv'), kind: 'note', text: 'second note' },
      { ...base(10_000), kind: 'status', status: 'closed', reason: 'done' },
    ];
    const view = foldCase(events);
    expect(view.status).toBe('closed');
    expect(view.updatedAt).toBe(10_000);
    expect(view.alertIds).toEqual([A1, A2, A3]);
    expect(view.notes).toEqual([
      { at: 2000, by: 'inv', text: 'first note' },
      { at: 9000, by: 'inv', text: 'second note' },
    ]);
    expect(view.assessment).toEqual({ factors, conclusion: 'breach', rationale: 'two', at: 6000, by: 'po' });
    // The later facts replace the earlier ones whole: the jurisdiction count is unknown again.
    expect(view.breachFacts).toEqual({
      discoveredOn: '2026-03-07',
      affectedIndividuals: 3,
      reason: 'recount',
      at: 8000,
      by: 'po',
    });
    expect(view.discoveredOn).toBe('2026-03-07');
    expect(view.history).toEqual(events);
    expect(view.history).not.toBe(events);
  });

  it('a reopened case is open again', () => {
    const view = foldCase([
      opened(),
      { ...base(2000), kind: 'status', status: 'closed', reason: 'done' },
      { ...base(3000), kind: 'status', status: 'open', reason: 'new evidence' },
    ]);
    expect(view.status).toBe('open');
  });

  it('events of the same millisecond: the store order (eventId) decides', () => {
    const status = (id: string, s: 'closed' | 'investigating'): CaseEvent => ({
      ...base(2000),
      eventId: id,
      kind: 'status',
      status: s,
      reason: 'same millisecond',
    });
    const early = status('10000000-0000-4000-8000-000000000000', 'closed');
    const late = status('20000000-0000-4000-8000-000000000000', 'investigating');
    expect(foldCase([opened(), late, early].sort(compareCaseEvents)).status).toBe('investigating');
  });

  it('refuses lists that are not one case starting with its opening', () => {
    expect(() => foldCase([])).toThrow(/at least one event/);
    expect(() => foldCase([{ ...base(1), kind: 'note', text: 'orphan' }])).toThrow(/first event must be opened/);
    expect(() => foldCase([opened(), opened(2000)])).toThrow(/opened once/);
    expect(() => foldCase([opened(), { ...base(2000, 'po', OTHER), kind: 'note', text: 'elsewhere' }])).toThrow(
      /different cases/,
    );
    expect(() =>
      foldCase([opened(), { ...base(2000), tenant: 'clinic-b', kind: 'note', text: 'other tenant' }]),
    ).toThrow(/different cases/);
  });
});

describe('foldCases', () => {
  it('groups a tenant`s interleaved events into one view per case, in order of opening', () => {
    const events = [
      opened(1000, OTHER),
      opened(1500, CASE),
      { ...base(2000, 'po', OTHER), kind: 'status' as const, status: 'closed' as const, reason: 'done' },
      { ...base(2500, 'po', CASE), kind: 'note' as const, text: 'note' },
    ];
    const views = foldCases(events);
    expect(views.map((v) => [v.caseId, v.status, v.history.length])).toEqual([
      [OTHER, 'closed', 2],
      [CASE, 'open', 2],
    ]);
    expect(foldCases([])).toEqual([]);
  });
});
