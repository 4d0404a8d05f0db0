import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';

export interface BulkReadPolicy {
  readonly window: { readonly windowMs: number; readonly distinctCap: number };
  /**
   * Fires when a user touches more than `maxDistinctPatients` distinct patients in one window, or
   * when one export or query returns at least `recordCount` rows (absent: never).
   */
  readonly bulkRead: { readonly enabled: boolean; readonly maxDistinctPatients: number; readonly recordCount?: number };
}

export const BULK_READ_RULE_ID = 'bulk-read';

/**
 * Distinct patients per user per event-time window above a threshold, or one export or query
 * whose `recordCount` reaches `bulkRead.recordCount` (a patient list pulled in one go touches
 * thousands of records through one event). One alert per user and
 * day (no patient): every event past the threshold in that window joins it as evidence. The
 * window's distinct set is capped at `window.distinctCap`, which must exceed the threshold;
 * a policy where it does not can never fire, so that is treated as a configuration error.
 */
export const bulkReadRule: Rule<BulkReadPolicy, unknown> = {
  id: BULK_READ_RULE_ID,
  enabled: (policy) => policy.bulkRead.enabled,
  evaluate({ event, policy, window }) {
    const max = policy.bulkRead.maxDistinctPatients;
    if (policy.window.distinctCap <= max) {
      throw new RangeError(
        `window.distinctCap (${policy.window.distinctCap}) must exceed bulkRead.maxDistinctPatients (${max})`,
      );
    }
    const rows = event.recordCount;
    const rowLimit = policy.bulkRead.recordCount;
    if (
      rows !== undefined &&
      rowLimit !== undefined &&
      rows >= rowLimit &&
      (event.action === 'export' || event.action === 'query')
    ) {
      return [
        {
          severity: 'high',
          riskScore: 70,
          explanation: `User ${event.actor.userId} ${event.action === 'export' ? 'exported' : 'queried'} ${rows} records in one ${event.action} (the policy allows fewer than ${rowLimit}).`,
        },
      ];
    }
    if (window.late || event.patient === undefined || window.windowDistinct <= max) return NO_FINDINGS;
    const minutes = Math.round(policy.window.windowMs / 60_000);
    // The capped count cannot say how far past the threshold the user went, so the score is flat.
    return [
      {
        severity: 'high',
        riskScore: 70,
        explanation: `User ${event.actor.userId} accessed the records of more than ${max} distinct patients within ${minutes} minutes.`,
      },
    ];
  },
};
