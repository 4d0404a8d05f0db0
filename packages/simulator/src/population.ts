import { FAMILY_NAMES, GIVEN_NAMES, STREETS, TOWNS } from './names.js';
import type { FacilityProfile } from './profiles.js';
import type { Random } from './random.js';
import type { Address, Patient, Role, WorkforceMember } from './reference-data.js';

const YEAR_MS = 365.25 * 86_400_000;

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function address(random: Random): Address {
  const town = random.pick(TOWNS);
  return {
    line: `${random.between(1, 1999)} ${random.pick(STREETS)}`,
    city: town.city,
    state: town.state,
    postalCode: `${town.zip}${String(random.between(0, 99)).padStart(2, '0')}`,
  };
}

const TITLES: Partial<Record<Role, string>> = { physician: 'Dr. ', pharmacist: 'PharmD ' };

/** The active staff of each group, then a few former (terminated) staff. */
export function createWorkforce(options: {
  profile: FacilityProfile;
  random: Random;
  asOf: number;
}): WorkforceMember[] {
  const { profile, random, asOf } = options;
  const members: WorkforceMember[] = [];
  const add = (group: FacilityProfile['staff'][number], status: WorkforceMember['status']): void => {
    const givenName = random.pick(GIVEN_NAMES);
    const familyName = random.pick(FAMILY_NAMES);
    const hiredAt = asOf - Math.floor(random.next() * 15 * YEAR_MS) - 30 * 86_400_000;
    const member: WorkforceMember = {
      userId: `u${String(members.length + 1).padStart(4, '0')}`,
      givenName,
      familyName,
      displayName: `${TITLES[group.role] ?? ''}${givenName} ${familyName}`,
      address: address(random),
      birthDate: isoDate(asOf - (22 + random.next() * 43) * YEAR_MS),
      role: group.role,
      department: group.department,
      shift: group.shift,
      status,
      hiredAt,
      workstation: `${group.department.replace(/_/g, '-')}-ws-${String(random.between(1, 40)).padStart(2, '0')}`,
    };
    if (status === 'terminated') {
      member.terminatedAt = hiredAt + Math.floor(random.next() * (asOf - hiredAt - 86_400_000));
    }
    members.push(member);
  };
  for (const group of profile.staff) {
    for (let i = 0; i < group.count; i++) add(group, 'active');
  }
  for (let i = 0; i < profile.terminatedStaff; i++) add(random.pick(profile.staff), 'terminated');
  return members;
}

/**
 * Patients in households (shared address, mostly a shared family name). About a third of the
 * staff are patients of their own facility, with their households, so that family, coworker and
 * neighbour scenarios have real reference data to point at.
 */
export function createPatients(options: {
  profile: FacilityProfile;
  random: Random;
  asOf: number;
  workforce: readonly WorkforceMember[];
}): Patient[] {
  const { profile, random, asOf, workforce } = options;
  const patients: Patient[] = [];
  let households = 0;
  const person = (
    household: string,
    familyName: string,
    home: Address,
    minAge: number,
    maxAge: number,
    staff?: WorkforceMember,
  ): void => {
    const vip = random.chance(0.002);
    const patient: Patient = {
      id: `MRN${String(100_001 + patients.length).padStart(7, '0')}`,
      givenName: staff?.givenName ?? random.pick(GIVEN_NAMES),
      familyName,
      address: home,
      birthDate: staff?.birthDate ?? isoDate(asOf - (minAge + random.next() * (maxAge - minAge)) * YEAR_MS),
      vip,
      restricted: vip || random.chance(0.01),
      householdId: household,
    };
    if (staff) patient.workforceUserId = staff.userId;
    else if (random.chance(0.01)) patient.deceasedAt = asOf - Math.floor(random.next() * 3 * YEAR_MS) - 86_400_000;
    patients.push(patient);
  };
  const relatives = (household: string, familyName: string, home: Address): void => {
    const adults = random.chance(0.6) ? 1 : 0;
    const children = random.chance(0.4) ? random.between(1, 3) : 0;
    for (let i = 0; i < adults; i++) {
      person(household, random.chance(0.85) ? familyName : random.pick(FAMILY_NAMES), home, 20, 85);
    }
    for (let i = 0; i < children; i++) person(household, familyName, home, 0, 18);
  };

  for (const member of workforce) {
    if (member.status !== 'active' || !random.chance(0.35) || patients.length >= profile.patients) continue;
    const household = `H${++households}`;
    person(household, member.familyName, member.address, 0, 0, member);
    relatives(household, member.familyName, member.address);
  }
  while (patients.length < profile.patients) {
    const household = `H${++households}`;
    const familyName = random.pick(FAMILY_NAMES);
    const home = address(random);
    person(household, familyName, home, 18, 95);
    relatives(household, familyName, home);
  }
  return patients.slice(0, profile.patients);
}
