import { describe, expect, it } from 'vitest';
import { createFacility } from './facility.js';

const street = (a: { line: string; postalCode: string }) => `${a.postalCode}|${a.line.slice(a.line.indexOf(' ') + 1)}`;

describe('population', () => {
  it('gives even a small clinic staff households, neighbours of staff and VIP patients', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const clinic = createFacility({ profile: 'clinic', seed });
      const staffPatients = clinic.patients.filter((p) => p.workforceUserId !== undefined);
      expect(staffPatients.length, `seed ${seed}`).toBeGreaterThanOrEqual(2);
      for (const own of staffPatients) {
        const member = clinic.member(own.workforceUserId!)!;
        expect(own.address).toEqual(member.address);
        const relatives = clinic.patients.filter(
          (p) => p !== own && p.householdId === own.householdId && p.familyName === member.familyName,
        );
        expect(relatives.length, `seed ${seed} ${member.userId}`).toBeGreaterThanOrEqual(1);
      }
      const neighbours = clinic.workforce.filter((m) =>
        clinic.patients.some((p) => street(p.address) === street(m.address) && p.address.line !== m.address.line),
      );
      expect(neighbours.length, `seed ${seed}`).toBeGreaterThanOrEqual(2);
      expect(clinic.patients.filter((p) => p.vip && p.restricted).length, `seed ${seed}`).toBeGreaterThanOrEqual(2);
    }
  });

  it('makes about a third of a hospital staff patients, none of them deceased', () => {
    const hospital = createFacility({ profile: 'hospital', seed: 9 });
    const active = hospital.workforce.filter((m) => m.status === 'active').length;
    const staffPatients = hospital.patients.filter((p) => p.workforceUserId !== undefined);
    expect(staffPatients.length / active).toBeGreaterThan(0.25);
    expect(staffPatients.length / active).toBeLessThan(0.45);
    expect(staffPatients.every((p) => p.deceasedAt === undefined)).toBe(true);
    expect(hospital.patients).toHaveLength(20_000);
  });
});
