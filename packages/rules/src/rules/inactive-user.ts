import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';

import type { Rule } from '../engine.js';
import { NO_FINDINGS } from '../engine.js';
import type { Policy } from '../policy.js';
import type { ReferenceIndex } from '../reference-data.js';
import { lowerSeverity } from './household.js';

/** The reference lookups inactive-user needs. */
export type InactiveUserReference = Pick<ReferenceIndex, 'member' | 'displayNameOfUser'>;

export type InactiveUserPolicy = Pick<Policy, 'timeZone' | 'inactiveUser'>;

export const INACTIVE_USER_RULE_ID = 'inactive-user';

const MINUTE_MS = 60_000;

/**
 * Fires when an account acts (a login included) while its workforce member is not employed: at or
 * after `terminatedAt` (plus `graceMinutes` of clock-skew allowance), before `hiredAt`, or with
 * status `inactive` (leave, suspension), which carries no date and so counts for every event.
 * The termination date decides, not the status: HR feeds often lag, so a member still marked
 * active whose termination date has passed fires too.
 *
 * One alert per user and day (no patient). A failed attempt fires one severity lower at half the
 * risk score: the account was presumably refused, but someone still tried it. A user with no
 * workforce record does not fire: that is missing reference data, not evidence of departure.
 */
export const inactiveUserRule: Rule<InactiveUserPolicy, InactiveUserReference> = {
  id: INACTIVE_USER_RULE_ID,
  enabled: (policy) => policy.inactiveUser.enabled,
  evaluate({ event, policy, reference }) {
    const settings = policy.inactiveUser;
    const userId = event.actor.userId;
    const member = reference.member(userId);
    if (member === undefined || settings.exemptRoles.includes(member.role)) return NO_FINDINGS;
    const at = event.occurredAt;
    const day = (ms: number) => format(new TZDate(ms, policy.timeZone), 'yyyy-MM-dd');

    let why: string;
    if (member.terminatedAt !== undefined && at >= member.terminatedAt + settings.graceMinutes * MINUTE_MS) {
      why = `after their termination on ${day(member.terminatedAt)}`;
    } else if (at < member.hiredAt) {
      why = `before their hire date of ${day(member.hiredAt)}`;
    } else if (member.status === 'inactive') {
      why = 'while their workforce status is inactive';
    } else {
      return NO_FINDINGS;
    }

    const failed = event.outcome === 'failure';
    const what =
      event.action === 'login'
        ? failed
          ? 'tried to log in'
          : 'logged in'
        : `${failed ? 'tried to access' : 'accessed'} a patient record (action: ${event.action})`;
    const who = reference.displayNameOfUser(userId) ?? `User ${userId}`;
    return [
      {
        severity: failed ? lowerSeverity(settings.severity) : settings.severity,
        riskScore: failed ? settings.riskScore / 2 : settings.riskScore,
        explanation: `${who} ${what} ${why}.`,
      },
    ];
  },
};
