import type { ReferenceKind } from '@phi-audit/rules';

/**
 * The CSV columns each kind of reference record can be read from. A field's type decides how a
 * cell is converted (see cell-values.ts); the record schemas in @phi-audit/rules stay the judge
 * of what is valid. Address fields are dotted (`address.line`) and come as a set.
 */

export type CellType = 'string' | 'boolean' | 'date' | 'instant';

export interface CsvField {
  /** The record field, dotted for address parts. */
  readonly name: string;
  readonly type: CellType;
  /** A column for it must exist and every row must fill it. */
  readonly required: boolean;
}

const field = (name: string, type: CellType = 'string', required = false): CsvField => ({ name, type, required });

/** Address parts: all four columns or none. */
export const ADDRESS_FIELDS = ['address.line', 'address.city', 'address.state', 'address.postalCode'] as const;
const address = ADDRESS_FIELDS.map((name) => field(name));

export const CSV_FIELDS: Readonly<Record<ReferenceKind, readonly CsvField[]>> = {
  patients: [
    field('id', 'string', true),
    field('givenName', 'string', true),
    field('familyName', 'string', true),
    ...address,
    field('birthDate', 'date', true),
    field('deathDate', 'date'),
    field('vip', 'boolean'),
    field('confidential', 'boolean'),
    field('workforceUserId'),
  ],
  workforce: [
    field('userId', 'string', true),
    field('givenName', 'string', true),
    field('familyName', 'string', true),
    field('displayName'),
    ...address,
    field('role', 'string', true),
    field('department', 'string', true),
    field('shift'),
    field('status', 'string', true),
    field('hiredAt', 'instant', true),
    field('terminatedAt', 'instant'),
  ],
  relationships: [
    field('sourceId'),
    field('patientId', 'string', true),
    field('userId'),
    field('departmentId'),
    field('kind', 'string', true),
    field('validFrom', 'instant', true),
    field('validTo', 'instant', true),
  ],
};
