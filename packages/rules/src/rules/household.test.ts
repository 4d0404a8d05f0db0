import { describe, expect, it } from 'vitest';
import { areNeighbours, sameAddress, sameStreet, sameSurname } from '../identity-match.js';
import { householdKeys, keysShareAddress, keysShareStreet, keysShareSurname } from './household.js';

const LINES = [
  '12 Main St.',
  '12 main street apt 4',
  '12 Main St #4',
  '12 Main St Apt 9',
  '14 Main Street',
  '12B Main St',
  'Main Street',
  'PO Box 12',
  'P.O. Box 12',
  'Hauptstraße 12',
  'Haupt Str. 12',
  '480 Oak Ave',
];
const ZIPS = ['62701', '62701-1234', '62702'];
const SURNAMES = ['López', 'LOPEZ', 'García-López', 'Garcia', 'de la Cruz', 'Cruz', 'de', 'O’Brien', 'OBrien', 'Smith'];

describe('household keys', () => {
  it('agree with identity-match on every pair of sample surnames and addresses', () => {
    const records = LINES.flatMap((line, i) =>
      ZIPS.map((postalCode, j) => ({
        familyName: SURNAMES[(i + j) % SURNAMES.length]!,
        address: { line, postalCode, city: 'c', state: 's' },
      })),
    );
    let pairs = 0;
    for (const a of records) {
      for (const b of records) {
        const ka = householdKeys(a);
        const kb = householdKeys(b);
        expect(keysShareSurname(ka, kb), `${a.familyName} / ${b.familyName}`).toBe(
          sameSurname(a.familyName, b.familyName),
        );
        expect(keysShareStreet(ka, kb), `${a.address.line} / ${b.address.line}`).toBe(sameStreet(a.address, b.address));
        expect(keysShareAddress(ka, kb)).toBe(sameAddress(a.address, b.address));
        expect(keysShareStreet(ka, kb) && !keysShareAddress(ka, kb)).toBe(areNeighbours(a.address, b.address));
        pairs++;
      }
    }
    expect(pairs).toBe(records.length ** 2);
  });

  it('parses a record once and returns the cached keys after', () => {
    const record = { familyName: 'Lopez', address: { line: '1 A St', postalCode: '1', city: 'c', state: 's' } };
    expect(householdKeys(record)).toBe(householdKeys(record));
    expect(householdKeys({ familyName: 'Lopez' }).street).toBeUndefined();
  });
});
