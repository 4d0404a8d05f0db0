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

/** Staff households every facility has at least, however small: the family scenario needs some. */
const MIN_STAFF_HOUSEHOLDS = 2;
/** VIP patients every facility has at least (a local celebrity turns up even in a small practice). */
const MIN_VIPS = 2;
/** Share of active staff with another household on their street, in the facility's patients (at least two). */
const NEIGHBOUR_SHARE = 0.4;
const MIN_NEIGHBOUR_HOUSEHOLDS = 2;

/** Another house on the same street (same postal code, another house number). */
function neighbourAddress(home: Address, random: Random): Address {
  const space = home.line.indexOf(' ');
  const number = Number(home.line.slice(0, space));
  let other = random.between(1, 1999);
  if (other === number) other = (other % 1999) + 1;
  return { ...home, line: `${other} ${home.line.slice(space + 1)}` };
}

/**
 * Patients in households (shared address, mostly a shared family name). About a third of the
 * staff (at least {@link MIN_STAFF_HOUSEHOLDS}) are patients of their own facility, each with at
 * least one relative of the same family name, and many staff have a patient household on their
 * street, so that family, coworker and neighbour scenarios have real reference data to point at.
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
  const relatives = (household: string, familyName: string, home: Address): number => {
    const adults = random.chance(0.6) ? 1 : 0;
    const children = random.chance(0.4) ? random.between(1, 3) : 0;
    let sameName = children;
    for (let i = 0; i < adults; i++) {
      const shared = random.chance(0.85);
      if (shared) sameName += 1;
      person(household, shared ? familyName : random.pick(FAMILY_NAMES), home, 20, 85);
    }
    for (let i = 0; i < children; i++) person(household, familyName, home, 0, 18);
    return sameName;
  };

  const active = workforce.filter((m) => m.status === 'active');
  let staffHouseholds = 0;
  let neighbourHouseholds = 0;
  active.forEach((member, i) => {
    if (patients.length >= profile.patients) return;
    const drawn = random.chance(0.35);
    const owed = MIN_STAFF_HOUSEHOLDS - staffHouseholds >= active.length - i;
    if (drawn || owed) {
      staffHouseholds += 1;
      const household = `H${++households}`;
      person(household, member.familyName, member.address, 0, 0, member);
      if (relatives(household, member.familyName, member.address) === 0) {
        person(household, member.familyName, member.address, 0, 18);
      }
    }
    const near = random.chance(NEIGHBOUR_SHARE);
    if (near || MIN_NEIGHBOUR_HOUSEHOLDS - neighbourHouseholds >= active.length - i) {
      neighbourHouseholds += 1;
      const household = `H${++households}`;
      const home = neighbourAddress(member.address, random);
      const familyName = random.pick(FAMILY_NAMES);
      person(household, familyName, home, 18, 95);
      relatives(household, familyName, home);
    }
  });
  while (patients.length < profile.patients) {
    const household = `H${++households}`;
    const familyName = random.pick(FAMILY_NAMES);
    const home = address(random);
    person(household, familyName, home, 18, 95);
    relatives(household, familyName, home);
  }
  const out = patients.slice(0, profile.patients);
  const candidates = out.filter((p) => !p.vip && p.workforceUserId === undefined && p.deceasedAt === undefined);
  for (let vips = out.filter((p) => p.vip).length; vips < MIN_VIPS && candidates.length > 0; vips++) {
    const [chosen] = candidates.splice(random.int(candidates.length), 1);
    if (chosen) Object.assign(chosen, { vip: true, restricted: true });
  }
  return out;
}
