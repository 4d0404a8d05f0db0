import { describe, expect, it } from 'vitest';
import {
  createReferenceIndex,
  fromSimulator,
  parseReferenceData,
  ReferenceDataError,
  type ReferenceDataInput,
  type SimulatorReferenceData,
} from './reference-data.js';
import type { SelfAccessReference } from './rules/self-access.js';

const T0 = Date.UTC(2025, 5, 1);
const HOUR = 3_600_000;
const address = { line: '12 Main St', city: 'Springfield', state: 'MA', postalCode: '01101' };

const data: ReferenceDataInput = {
  patients: [
    { id: 'p1', givenName: 'Ana', familyName: 'Lopez', address, birthDate: '1980-02-29', vip: true },
    { id: 'p2', givenName: 'Bo', familyName: 'Chen', birthDate: '1990-01-01', workforceUserId: 'u2' },
  ],
  workforce: [
    {
      userId: 'u1',
      givenName: 'Maria',
      familyName: 'Lopez',
      displayName: 'Dr. Maria Lopez',
      role: 'physician',
      department: 'cardiology',
      status: 'active',
      hiredAt: T0 - 1000 * HOUR,
    },
    {
      userId: 'u2',
      givenName: 'Bo',
      familyName: 'Chen',
      role: 'nurse',
      department: 'icu',
      status: 'active',
      hiredAt: 0,
    },
  ],
  relationships: [
    { patientId: 'p1', userId: 'u1', kind: 'appointment', validFrom: T0, validTo: T0 + 2 * HOUR },
    { patientId: 'p1', departmentId: 'pharmacy', kind: 'encounter', validFrom: T0, validTo: T0 + 48 * HOUR },
  ],
};

function problemsOf(input: unknown): readonly string[] {
  try {
    parseReferenceData(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ReferenceDataError);
    return (err as ReferenceDataError).problems;
  }
  throw new Error('expected the reference data to be rejected');
}

describe('parseReferenceData', () => {
  it('accepts valid data and fills flag defaults', () => {
    const parsed = parseReferenceData(data);
    expect(parsed.patients[1]).toMatchObject({ vip: false, confidential: false });
  });

  it('reports every problem at once with its path, and never echoes names', () => {
    const problems = problemsOf({
      patients: [
        { id: 'p1', givenName: 'Secret', familyName: 'Person', birthDate: '1980-13-01', mrn: 'x' },
        { id: 'p1', givenName: 'A', familyName: 'B', birthDate: '1980-01-01', address: { line: '', city: 'c' } },
      ],
      workforce: [
        { userId: 'u1', givenName: 'A', familyName: 'B', role: 'r', department: 'd', status: 'terminated', hiredAt: 5 },
        { userId: 'u2', givenName: 'A', familyName: 'B', role: 'r', department: 'd', status: 'retired', hiredAt: 5 },
      ],
      relationships: [
        { patientId: 'p1', kind: 'appointment', validFrom: 10, validTo: 5 },
        { patientId: 'p1', userId: 'u1', departmentId: 'd', kind: 'other', validFrom: 0, validTo: 5 },
        { patientId: 'p1', userId: 'u1', kind: 'visit', validFrom: 0, validTo: 5 },
      ],
    });
    const paths = problems.map((p) => p.slice(0, p.indexOf(':')));
    expect(paths).toEqual(
      expect.arrayContaining([
        'patients.0.birthDate',
        'patients.0',
        'patients.1.address.line',
        'patients.1.address.state',
        'workforce.0.terminatedAt',
        'workforce.1.status',
        'relationships.0.userId',
        'relationships.0.validTo',
        'relationships.1.userId',
        'relationships.2.kind',
      ]),
    );
    expect(problems.join('\n')).not.toContain('Secret');
  });

  it('rejects duplicate ids once the records themselves are valid', () => {
    const problems = problemsOf({ patients: [data.patients?.[0], data.patients?.[0]] });
    expect(problems).toEqual(['patients.1: duplicate id "p1"']);
  });
});

describe('createReferenceIndex', () => {
  const index = createReferenceIndex(parseReferenceData(data));

  it('looks up patients and workforce by id', () => {
    expect(index.patient('p1')?.familyName).toBe('Lopez');
    expect(index.patient('nope')).toBeUndefined();
    expect(index.member('u1')?.role).toBe('physician');
    expect(index.patientOfMember('u2')?.id).toBe('p2');
    expect(index.patientOfMember('u1')).toBeUndefined();
  });

  it('serves the lookups the self-access rule needs', () => {
    const reference: SelfAccessReference = index;
    expect(reference.workforceUserIdOfPatient('p2')).toBe('u2');
    expect(reference.displayNameOfUser?.('u1')).toBe('Dr. Maria Lopez');
    expect(reference.displayNameOfUser?.('u2')).toBe('Bo Chen');
  });

  it('finds relationships valid at a time: from inclusive, to exclusive', () => {
    expect(index.userRelationships('p1', 'u1', T0 - 1)).toEqual([]);
    expect(index.userRelationships('p1', 'u1', T0)).toHaveLength(1);
    expect(index.userRelationships('p1', 'u1', T0 + 2 * HOUR)).toEqual([]);
    expect(index.userRelationships('p1', 'u2', T0)).toEqual([]);
    expect(index.departmentRelationships('p1', 'pharmacy', T0 + 47 * HOUR)[0]?.kind).toBe('encounter');
    expect(index.departmentRelationships('p1', 'cardiology', T0)).toEqual([]);
  });

  it('is immutable', () => {
    const patient = index.patient('p1')!;
    expect(() => {
      (patient as { vip: boolean }).vip = false;
    }).toThrow(TypeError);
    expect(() => {
      (patient.address as { line: string }).line = 'x';
    }).toThrow(TypeError);
    expect(Object.isFrozen(index)).toBe(true);
  });
});

describe('fromSimulator', () => {
  const source: SimulatorReferenceData = {
    timeZone: 'America/New_York',
    patients: [
      {
        id: 'MRN1',
        givenName: 'Ana',
        familyName: 'Lopez',
        address,
        birthDate: '1950-01-01',
        // 2025-03-02 03:00 UTC is still March 1st in New York.
        deceasedAt: Date.UTC(2025, 2, 2, 3),
        vip: false,
        restricted: true,
      },
    ],
    workforce: [
      {
        userId: 'u1',
        givenName: 'Maria',
        familyName: 'Lopez',
        displayName: 'Dr. Maria Lopez',
        address,
        role: 'physician',
        department: 'ed',
        shift: 'night',
        status: 'terminated',
        hiredAt: 0,
        terminatedAt: T0,
      },
    ],
    relationships: [
      {
        id: 'enc-1',
        kind: 'ed_visit',
        patientId: 'MRN1',
        department: 'ed',
        careTeam: ['u1', 'u2'],
        departments: ['pharmacy', 'ed'],
        accessFrom: T0,
        accessTo: T0 + HOUR,
      },
    ],
  };

  it('maps fields, local death dates, kinds and fans relationships out per user and department', () => {
    const converted = fromSimulator(source);
    expect(converted.patients[0]).toMatchObject({ deathDate: '2025-03-01', confidential: true, vip: false });
    expect(converted.workforce[0]).toMatchObject({ status: 'terminated', terminatedAt: T0, shift: 'night' });
    expect(converted.relationships).toHaveLength(4);
    expect(converted.relationships.map((r) => r.userId ?? `dept:${r.departmentId}`)).toEqual([
      'u1',
      'u2',
      'dept:ed',
      'dept:pharmacy',
    ]);
    expect(converted.relationships.every((r) => r.kind === 'encounter' && r.sourceId === 'enc-1')).toBe(true);
    const index = createReferenceIndex(converted);
    expect(index.userRelationships('MRN1', 'u2', T0 + 1)).toHaveLength(1);
  });
});
