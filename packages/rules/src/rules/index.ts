import type { Rule } from '../engine.js';
import type { Policy } from '../policy.js';
import type { ReferenceIndex } from '../reference-data.js';
import { afterHoursRule } from './after-hours.js';
import { breakTheGlassRule } from './break-the-glass.js';
import { bulkReadRule } from './bulk-read.js';
import { coworkerRule } from './coworker.js';
import { deceasedPatientRule } from './deceased-patient.js';
import { familyRule } from './family.js';
import { inactiveUserRule } from './inactive-user.js';
import { neighbourRule } from './neighbour.js';
import { noTreatmentRelationshipRule } from './no-treatment-relationship.js';
import { peerDeviationRule } from './peer-deviation.js';
import { selfAccessRule } from './self-access.js';
import { vipConfidentialRule } from './vip-confidential.js';

/**
 * Every rule of the DESIGN.md rule set, in a fixed order (the engine runs them in this order,
 * so alerts come out in the same order on every replay). Each reads its own policy section of a
 * parsed {@link Policy} and its lookups from a {@link ReferenceIndex}.
 */
export const ALL_RULES: readonly Rule<Policy, ReferenceIndex>[] = Object.freeze([
  afterHoursRule,
  vipConfidentialRule,
  bulkReadRule,
  selfAccessRule,
  familyRule,
  coworkerRule,
  neighbourRule,
  deceasedPatientRule,
  inactiveUserRule,
  noTreatmentRelationshipRule,
  breakTheGlassRule,
  peerDeviationRule,
]);
