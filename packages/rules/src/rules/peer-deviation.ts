import type { Severity } from '../alert.js';
import type { DayFinding, Rule } from '../engine.js';
import { NO_DAY_FINDINGS, NO_FINDINGS } from '../engine.js';
import type { DayTally } from '../window-state.js';

/** The reference lookups peer deviation needs (the reference-data module provides them). */
export interface PeerDeviationReference {
  /** The workforce member behind an event's user id; users without one are not compared. */
  member(userId: string): { readonly role: string } | undefined;
  /** A display name from workforce reference data, for the explanation. */
  displayNameOfUser?(userId: string): string | undefined;
}

export interface PeerDeviationPolicy {
  readonly peerDeviation: {
    readonly enabled: boolean;
    readonly severity: Severity;
    readonly riskScore: number;
    readonly exemptRoles: readonly string[];
    /** Robust z-score above which a user's day is an outlier among the role's users. */
    readonly zScore: number;
    /** Fewer other users of the role active that day: no comparison. */
    readonly minPeers: number;
    /** Below this many distinct patients in a day the rule never fires. */
    readonly minDistinctPatients: number;
  };
}

export const PEER_DEVIATION_RULE_ID = 'peer-deviation';

/** Scales MAD to a standard deviation for normally distributed counts. */
const MAD_TO_SD = 1.4826;
/** Scales a mean absolute deviation to a standard deviation, used when MAD is 0. */
const MEAN_AD_TO_SD = 1.2533;
/**
 * Floors of the scale: a role whose users all read about the same number of charts has MAD ≈ 0,
 * and a user a few patients above it is not an outlier. The scale is never below this share of
 * the median, nor below one patient.
 */
const MIN_RELATIVE_SCALE = 0.1;
const MIN_ABSOLUTE_SCALE = 1;

/** Median of a sorted, non-empty array. */
function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The robust centre and scale of a role's daily distinct-patient counts. */
export function robustScale(counts: readonly number[]): { median: number; scale: number } {
  const sorted = [...counts].sort((a, b) => a - b);
  const m = median(sorted);
  const deviations = sorted.map((c) => Math.abs(c - m)).sort((a, b) => a - b);
  let scale = MAD_TO_SD * median(deviations);
  if (scale === 0) scale = (MEAN_AD_TO_SD * deviations.reduce((s, d) => s + d, 0)) / deviations.length;
  return { median: m, scale: Math.max(scale, MIN_RELATIVE_SCALE * m, MIN_ABSOLUTE_SCALE) };
}

/**
 * A user's distinct patients on one local day against the same role's users that day (same
 * tenant). Runs when the day closes (the engine's `evaluateDay`), so it sees final counts.
 *
 * Outlier test: robust z = (count − median) / scale over the role's counts that day, where scale
 * is 1.4826 × MAD (the standard deviation for normal data, unmoved by a few outliers), falling
 * back to 1.2533 × mean absolute deviation when MAD is 0, and floored at 10 % of the median and
 * at one patient. Fires when z > `zScore`, the count is at least `minDistinctPatients`, and at
 * least `minPeers` other users of the role opened a patient record that day. The user's own
 * count is part of the distribution: median and MAD hardly move for one outlier, and it keeps
 * the cost at one sort per role and day.
 *
 * Users without workforce reference data have no role and are neither compared nor peers;
 * exempt roles are skipped the same way. One alert per user and day (no patient); its evidence
 * is the earliest patient events of the user's day kept by the window state (the full list of a
 * day's events is not kept), with `truncated` set when there were more.
 */
export const peerDeviationRule: Rule<PeerDeviationPolicy, PeerDeviationReference> = {
  id: PEER_DEVIATION_RULE_ID,
  enabled: (policy) => policy.peerDeviation.enabled,
  evaluate: () => NO_FINDINGS,
  evaluateDay({ policy, reference, closed }) {
    const section = policy.peerDeviation;
    const byRole = new Map<string, DayTally[]>();
    for (const tally of closed.users) {
      const role = reference.member(tally.userId)?.role;
      if (role === undefined || section.exemptRoles.includes(role)) continue;
      let group = byRole.get(role);
      if (group === undefined) {
        group = [];
        byRole.set(role, group);
      }
      group.push(tally);
    }
    let findings: DayFinding[] | undefined;
    for (const [role, group] of byRole) {
      const peers = group.length - 1;
      if (peers < section.minPeers) continue;
      const { median: m, scale } = robustScale(group.map((t) => t.distinctPatients));
      for (const tally of group) {
        const count = tally.distinctPatients;
        if (count < section.minDistinctPatients) continue;
        const z = (count - m) / scale;
        if (!(z > section.zScore)) continue;
        const who = reference.displayNameOfUser?.(tally.userId) ?? `User ${tally.userId}`;
        const amount = tally.saturated ? `at least ${count}` : `${count}`;
        (findings ??= []).push({
          userId: tally.userId,
          severity: section.severity,
          riskScore: section.riskScore,
          explanation:
            `${who} opened the records of ${amount} distinct patients on ${closed.day.key}, ` +
            `against a median of ${m} among the ${peers} other users in role ${role} that day ` +
            `(${z.toFixed(1)} robust standard deviations above it; the policy allows ${section.zScore}).`,
        });
      }
    }
    return findings ?? NO_DAY_FINDINGS;
  },
};
