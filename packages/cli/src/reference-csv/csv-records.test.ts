import { describe, expect, it } from 'vitest';
import { parseColumnMapping } from './column-mapping.js';
import { recordsFromCsv } from './csv-records.js';
import { ReferenceCsvError } from './errors.js';

const csv = (...lines: string[]) => `${lines.join('\n')}\n`;

const PATIENTS = csv(
  'id,givenName,familyName,birthDate,vip,confidential,address.line,address.city,address.state,address.postalCode',
  'MRN1,Ann,Lee,1980-01-02,yes,,1 Main St,Springfield,IL,62701',
  'MRN2,Bo,"Smith, Jr.",1975-05-06,,N,,,,',
);

function thrown(fn: () => unknown): ReferenceCsvError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ReferenceCsvError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('recordsFromCsv', () => {
  it('reads field-named columns, converting by type; empty cells are absent, defaults apply', () => {
    const r = recordsFromCsv({ kind: 'patients', text: `\ufeff${PATIENTS}` });
    expect(r.problems).toEqual([]);
    expect(r.rows).toBe(2);
    expect(r.records).toEqual([
      {
        id: 'MRN1',
        givenName: 'Ann',
        familyName: 'Lee',
        birthDate: '1980-01-02',
        vip: true,
        confidential: false,
        address: { line: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' },
      },
      {
        id: 'MRN2',
        givenName: 'Bo',
        familyName: 'Smith, Jr.',
        birthDate: '1975-05-06',
        vip: false,
        confidential: false,
      },
    ]);
  });

  it('reads columns through a mapping, ignoring unmapped columns, with date-only instants in the zone', () => {
    const mapping = parseColumnMapping(
      'workforce',
      JSON.stringify({
        userId: 'Login',
        givenName: 'First',
        familyName: 'Last',
        role: 'Job',
        department: 'Dept',
        status: 'Status',
        hiredAt: 'Hire Date',
        terminatedAt: 'End Date',
      }),
      'map.json',
    );
    const text = csv(
      'Login,First,Last,Job,Dept,Status,Hire Date,End Date,Badge',
      'u1,Maria,Lopez,physician,cardiology,active,2020-03-01,,B-1',
      'u2,Sam,Ray,nurse,icu,terminated,2019-01-01T08:00:00Z,2024-06-30,B-2',
    );
    const r = recordsFromCsv({ kind: 'workforce', text, mapping, timeZone: 'America/Chicago' });
    expect(r.problems).toEqual([]);
    expect(r.records).toEqual([
      {
        userId: 'u1',
        givenName: 'Maria',
        familyName: 'Lopez',
        role: 'physician',
        department: 'cardiology',
        status: 'active',
        hiredAt: Date.UTC(2020, 2, 1, 6),
      },
      {
        userId: 'u2',
        givenName: 'Sam',
        familyName: 'Ray',
        role: 'nurse',
        department: 'icu',
        status: 'terminated',
        hiredAt: Date.UTC(2019, 0, 1, 8),
        terminatedAt: Date.UTC(2024, 5, 30, 5),
      },
    ]);
  });

  it('reports every problem by line and column header, never the cell value, and returns no records', () => {
    const mapping = { id: 'MRN', givenName: 'First', familyName: 'Last', birthDate: 'DOB', vip: 'VIP' };
    const text = csv(
      'MRN,First,Last,DOB,VIP',
      'MRN1,Ann,Lee,1980-01-02,yes',
      'MRN2,Bo,Ray,02/03/1970,maybe', // line 3: two bad cells
      '',
      'MRN3,,Kim,1970-01-01,no', // line 5: required cell empty
      'MRN1,Cy,Lee,1990-01-01,no', // line 6: repeats MRN1
    );
    const r = recordsFromCsv({ kind: 'patients', text, mapping });
    expect(r.records).toEqual([]);
    expect(r.problems).toEqual([
      'line 3, column "DOB": is not a calendar date YYYY-MM-DD',
      'line 3, column "VIP": is not a yes/no value (use true/false, yes/no, y/n or 1/0)',
      'line 5, column "First": is empty; a value is required',
      'line 6, column "MRN": repeats the key of record 0 in this load',
    ]);
    expect(r.problems.join('\n')).not.toMatch(/02\/03\/1970|maybe/);
  });

  it('reports schema problems at the column of the field (enum, cross-field rules, partial address)', () => {
    const text = csv(
      'patientId,userId,departmentId,kind,validFrom,validTo',
      'MRN1,u1,,visit,2025-01-01T00:00Z,2025-01-02T00:00Z',
      'MRN1,u1,cardiology,appointment,2025-01-02T00:00Z,2025-01-01T00:00Z',
    );
    const r = recordsFromCsv({ kind: 'relationships', text });
    expect(r.problems).toEqual([
      expect.stringMatching(/^line 2, column "kind": Invalid option: expected one of/),
      'line 3, column "userId": exactly one of userId and departmentId is required',
      'line 3, column "validTo": before validFrom',
    ]);
    const partial = recordsFromCsv({
      kind: 'patients',
      text: csv(
        'id,givenName,familyName,birthDate,address.line,address.city,address.state,address.postalCode',
        'MRN1,Ann,Lee,1980-01-02,1 Main St,,IL,62701',
      ),
    });
    expect(partial.problems).toEqual([
      'line 2, column "address.city": is empty; an address needs line, city, state and postalCode',
    ]);
    const terminated = recordsFromCsv({
      kind: 'workforce',
      text: csv(
        'userId,givenName,familyName,role,department,status,hiredAt',
        'u1,A,B,nurse,icu,terminated,2020-01-01T00:00Z',
      ),
    });
    expect(terminated.problems).toEqual([
      'line 2, field terminatedAt (no column): required when status is "terminated"',
    ]);
  });

  it('locates problems the server reports by record index', () => {
    const r = recordsFromCsv({ kind: 'patients', text: PATIENTS });
    expect(r.describe({ index: 1, path: 'familyName', message: 'x' })).toBe('line 3, column "familyName": x');
    expect(r.describe({ index: 0, path: '', message: 'y' })).toBe('line 2: y');
  });

  it('refuses files it cannot map, with a clear message', () => {
    expect(
      thrown(() => recordsFromCsv({ kind: 'patients', text: csv('id,givenName,familyName,birthDate,dob') })).code,
    ).toBe(
      'CSV_BAD_HEADER', // header only: no data rows
    );
    const unknown = thrown(() =>
      recordsFromCsv({ kind: 'patients', text: csv('id,givenName,familyName,birthDate,dob', 'a,b,c,1970-01-01,x') }),
    );
    expect(unknown.code).toBe('CSV_UNKNOWN_COLUMNS');
    expect(unknown.message).toMatch(/column "dob" is not a field of patients/);
    const missing = thrown(() => recordsFromCsv({ kind: 'patients', text: csv('id,givenName', 'a,b') }));
    expect(missing.code).toBe('CSV_MISSING_COLUMNS');
    expect(missing.message).toMatch(/no column for required fields familyName, birthDate of patients/);
    const address = thrown(() =>
      recordsFromCsv({
        kind: 'patients',
        text: csv('id,givenName,familyName,birthDate,address.line', 'a,b,c,1970-01-01,x'),
      }),
    );
    expect(address.message).toMatch(/address.city, address.state, address.postalCode/);
    const unmapped = thrown(() =>
      recordsFromCsv({ kind: 'patients', text: csv('MRN', 'a'), mapping: { id: 'MRN', givenName: 'First' } }),
    );
    expect(unmapped.code).toBe('CSV_BAD_MAPPING');
    expect(unmapped.message).toMatch(/column "First" \(for givenName\) that the file does not have/);
    expect(thrown(() => recordsFromCsv({ kind: 'patients', text: 'id,id\n1,2\n' })).message).toMatch(
      /repeats column "id"/,
    );
    const ragged = thrown(() => recordsFromCsv({ kind: 'patients', text: csv('id,givenName', 'a,b', 'secret') }));
    expect(ragged.code).toBe('CSV_UNREADABLE');
    expect(ragged.message).toBe('line 3: the row has a different number of cells than the header row');
    const tooMany = thrown(() =>
      recordsFromCsv({ kind: 'relationships', text: csv('patientId', 'a', 'b', 'c'), maxRows: 2 }),
    );
    expect(tooMany.code).toBe('CSV_TOO_MANY_ROWS');
  });
});

describe('parseColumnMapping', () => {
  it('accepts field → header and refuses unknown fields and non-string headers', () => {
    expect(parseColumnMapping('patients', '{"address.line":" Street "}', 'm.json')).toEqual({
      'address.line': 'Street',
    });
    expect(() => parseColumnMapping('patients', '{"dob":"DOB","id":3}', 'm.json')).toThrow(
      /"dob" is not a field of patients; field "id" must map to a column header/,
    );
    expect(() => parseColumnMapping('patients', '["id"]', 'm.json')).toThrow(/must be a JSON object/);
    expect(() => parseColumnMapping('patients', '{', 'm.json')).toThrow(/not valid JSON/);
  });
});
