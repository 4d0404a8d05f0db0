import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { areNeighbours, foldText, parseAddress, sameAddress, sameStreet, sameSurname } from './identity-match.js';

const at = (line: string, postalCode = '02139') => ({ line, postalCode });

describe('sameSurname', () => {
  it.each([
    ['Lopez', 'LOPEZ'],
    ['García', 'Garcia'],
    ['Müller', 'MULLER'],
    ['Strauß', 'Strauss'],
    ["O'Brien", 'OBrien'],
    ['van der Berg', 'Van  der Berg'],
    ['García-López', 'garcia lopez'],
    ['Smith-Jones', 'Jones'],
    ['Nguyễn', 'Nguyen'],
  ])('%s = %s', (a, b) => {
    expect(sameSurname(a, b)).toBe(true);
  });

  it.each([
    ['Lopez', 'Lopes'],
    ['Li', 'Lu'],
    ['van der Berg', 'van Dijk'], // particles alone are no shared name
    ['de la Cruz', 'de la Rosa'],
    ['Ng-Li', 'Li'], // parts under three letters are too common to count
    ['', ''],
  ])('%s ≠ %s', (a, b) => {
    expect(sameSurname(a, b)).toBe(false);
  });

  const surname = fc.stringMatching(/^[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ' -]{0,20}$/);

  it('is reflexive for any name with a letter outside particles, and symmetric', () => {
    fc.assert(
      fc.property(surname, surname, (a, b) => {
        expect(sameSurname(a, b)).toBe(sameSurname(b, a));
      }),
    );
    fc.assert(
      // The leading "q" keeps particles ("der", "van") out: alone they are no surname.
      fc.property(fc.stringMatching(/^q[A-Za-z]{2,11}$/), (a) => {
        expect(sameSurname(a, a)).toBe(true);
      }),
    );
  });

  it('ignores case, accents and spacing around a name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^q[a-z]{2,11}$/), fc.nat({ max: 3 }), (name, pad) => {
        const accented = name.replace(/e/g, 'é').replace(/a/g, 'à');
        const variant = `${' '.repeat(pad)}${accented.toUpperCase()}${' '.repeat(pad)}`;
        expect(sameSurname(name, variant)).toBe(true);
      }),
    );
  });
});

describe('parseAddress', () => {
  it('takes lines apart into house number, expanded street, unit and postal code', () => {
    expect(parseAddress({ line: '12B Main St., Apt #4', postalCode: '02139-1234' })).toEqual({
      houseNumber: '12b',
      street: 'main street',
      unit: '4',
      postalCode: '02139',
    });
    expect(parseAddress({ line: 'Hauptstraße 12', postalCode: '10115' })).toMatchObject({
      houseNumber: '12',
      street: 'hauptstrasse',
    });
    expect(parseAddress({ line: 'P.O. Box 17', postalCode: '02139' }).street).toBe('');
  });
});

describe('sameAddress (same household)', () => {
  it.each([
    ['12 Main St', '12 MAIN STREET'],
    ['12 Main St.', '12 main st'],
    ['1 N. Elm Ave', '1 North Elm Avenue'],
    ['12 Main St Apt 4', '12 Main Street #4'],
    ['12 Main St Apt 4', '12 Main St'], // a unit dropped in data entry
    ['Hauptstraße 12', 'Haupt Str. 12'],
  ])('%s = %s', (a, b) => {
    expect(sameAddress(at(a), at(b))).toBe(true);
  });

  it.each([
    ['12 Main St', '14 Main St'],
    ['12 Main St', '12 Main Ave'],
    ['12 Main St Apt 4', '12 Main St Apt 5'],
    ['PO Box 5', 'PO Box 5'],
  ])('%s ≠ %s', (a, b) => {
    expect(sameAddress(at(a), at(b))).toBe(false);
  });

  it('needs the same postal code; ZIP+4 compares as the ZIP', () => {
    expect(sameAddress(at('12 Main St', '02139'), at('12 Main St', '02140'))).toBe(false);
    expect(sameAddress(at('12 Main St', '02139-4307'), at('12 Main St', '02139'))).toBe(true);
  });

  const line = fc
    .tuple(
      fc.integer({ min: 1, max: 9999 }),
      fc.stringMatching(/^[A-Z][a-z]{2,10}$/),
      fc.constantFrom('St', 'Ave', 'Rd'),
    )
    .map(([n, name, kind]) => `${n} ${name} ${kind}`);

  it('is reflexive and symmetric, and ignores case, punctuation and abbreviation expansion', () => {
    const expand: Record<string, string> = { St: 'Street', Ave: 'Avenue', Rd: 'Road' };
    fc.assert(
      fc.property(line, line, (a, b) => {
        expect(sameAddress(at(a), at(a))).toBe(true);
        expect(sameAddress(at(a), at(b))).toBe(sameAddress(at(b), at(a)));
        const variant = `${a.replace(/(St|Ave|Rd)$/, (k) => expand[k] ?? k).toUpperCase()}.`;
        expect(sameAddress(at(a), at(variant))).toBe(true);
      }),
    );
  });

  it('a household is never its own neighbour', () => {
    fc.assert(
      fc.property(line, line, (a, b) => {
        expect(sameAddress(at(a), at(b)) && areNeighbours(at(a), at(b))).toBe(false);
      }),
    );
  });
});

describe('sameStreet and areNeighbours', () => {
  it('neighbours share street and postal code but not the household', () => {
    expect(areNeighbours(at('12 Main St'), at('14 Main Street'))).toBe(true);
    expect(areNeighbours(at('12 Main St Apt 4'), at('12 Main St Apt 5'))).toBe(true);
    expect(areNeighbours(at('12 Main St'), at('12 Main St'))).toBe(false);
    expect(areNeighbours(at('12 Main St', '02139'), at('14 Main St', '90210'))).toBe(false);
    expect(areNeighbours(at('12 Main St'), at('14 Elm St'))).toBe(false);
    expect(sameStreet(at('12 Main St'), at('14 Main St'))).toBe(true);
  });

  it('a line without a house number has no street', () => {
    expect(sameStreet(at('Main St'), at('Main St'))).toBe(false);
  });
});

describe('foldText', () => {
  it('folds case, diacritics, ligatures and punctuation', () => {
    expect(foldText('  Ærøskøbing—STRAẞE ')).toBe('aeroskobing strasse');
  });
});
