import type { AccessEvent } from '@phi-audit/schema';
import { describe, expect, it } from 'vitest';
import { createDetector } from '../engine.js';
import { DEFAULT_POLICY, RULE_IDS } from '../policy.js';
import { createReferenceIndex, parseReferenceData } from '../reference-data.js';
import { ALL_RULES } from './index.js';

describe('ALL_RULES', () => {
  it('holds each rule of the DESIGN.md set once', () => {
    expect(ALL_RULES.map((r) => r.id).sort()).toEqual([...RULE_IDS].sort());
  });

  it('runs together on the default policy and a reference index', () => {
    const reference = createReferenceIndex(parseReferenceData({}));
    const d = createDetector({ rules: ALL_RULES, policyFor: () => DEFAULT_POLICY, referenceFor: () => reference });
    const event: AccessEvent = {
      eventId: 'e1',
      tenant: 't',
      occurredAt: Date.UTC(2026, 2, 2, 15, 0),
      receivedAt: Date.UTC(2026, 2, 2, 15, 0),
      source: { system: 'epic' },
      actor: { userId: 'u1' },
      patient: { id: 'p1' },
      action: 'view',
      resource: { type: 'chart' },
      outcome: 'success',
    };
    expect(() => [...d.process(event), ...d.flush({ endOfInput: true })]).not.toThrow();
  });
});
