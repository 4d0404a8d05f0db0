export * from './facility.js';
export * from './traffic-generator.js';
export * from './reference-data.js';
export { PROFILES, type FacilityProfile, type ProfileName, type StaffGroup } from './profiles.js';
export { createRandom, deriveSeed, type Random } from './random.js';
export type { Roster, ShiftInstance } from './roster.js';
export { PLAN_HORIZON_DAYS } from './day-planner.js';
export { EXPECTED_RULES } from './scenarios.js';
