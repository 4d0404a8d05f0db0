import type { ReferenceKind } from '@phi-audit/rules';
import { ADDRESS_FIELDS, CSV_FIELDS, type CsvField } from './csv-fields.js';
import { ReferenceCsvError } from './errors.js';

/** A mapping file: `{ "<record field>": "<CSV column header>" }`, address parts dotted. */
export type ColumnMappingFile = Readonly<Record<string, string>>;

/** One record field read from one column. */
export interface MappedColumn {
  readonly field: CsvField;
  /** Index of the column in each row. */
  readonly index: number;
  readonly header: string;
}

const quoteList = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/**
 * Parses a mapping file's text. Throws CSV_BAD_MAPPING for anything but a JSON object of
 * non-empty strings, or a field the kind does not have.
 */
export function parseColumnMapping(kind: ReferenceKind, text: string, file: string): ColumnMappingFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReferenceCsvError('CSV_BAD_MAPPING', `mapping file ${file} is not valid JSON`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ReferenceCsvError(
      'CSV_BAD_MAPPING',
      `mapping file ${file} must be a JSON object { "<field>": "<CSV column header>" }`,
    );
  }
  const known = CSV_FIELDS[kind].map((f) => f.name);
  const mapping: Record<string, string> = {};
  const problems: string[] = [];
  for (const [fieldName, header] of Object.entries(json)) {
    if (!known.includes(fieldName)) problems.push(`"${fieldName}" is not a field of ${kind}`);
    else if (typeof header !== 'string' || header.trim() === '')
      problems.push(`field "${fieldName}" must map to a column header (a non-empty string)`);
    else mapping[fieldName] = header.trim();
  }
  if (problems.length > 0) {
    throw new ReferenceCsvError(
      'CSV_BAD_MAPPING',
      `mapping file ${file}: ${problems.join('; ')}. The fields of ${kind} are ${known.join(', ')}`,
    );
  }
  return mapping;
}

/**
 * Resolves which column each field is read from: the mapping's, or (without one) the column
 * whose header is the field name. Throws naming every unknown mapped column, every column that
 * is not a field (without a mapping: most likely a misspelt header), every required field
 * without a column, and an incomplete address set.
 */
export function resolveColumns(
  kind: ReferenceKind,
  headers: readonly string[],
  mapping: ColumnMappingFile | undefined,
): MappedColumn[] {
  const fields = CSV_FIELDS[kind];
  const columns: MappedColumn[] = [];
  if (mapping !== undefined) {
    const missing = Object.entries(mapping).filter(([, header]) => !headers.includes(header));
    if (missing.length > 0) {
      throw new ReferenceCsvError(
        'CSV_BAD_MAPPING',
        `the mapping names column${missing.length > 1 ? 's' : ''} ${missing.map(([f, h]) => `"${h}" (for ${f})`).join(', ')} that the file does not have; its columns are ${quoteList(headers)}`,
      );
    }
    for (const field of fields) {
      const header = mapping[field.name];
      if (header !== undefined) columns.push({ field, header, index: headers.indexOf(header) });
    }
  } else {
    const unknown = headers.filter((h) => !fields.some((f) => f.name === h));
    if (unknown.length > 0) {
      throw new ReferenceCsvError(
        'CSV_UNKNOWN_COLUMNS',
        `column${unknown.length > 1 ? 's' : ''} ${quoteList(unknown)} ${unknown.length > 1 ? 'are not fields' : 'is not a field'} of ${kind}; rename the header(s) or map them with --mapping. The fields are ${fields.map((f) => f.name).join(', ')}`,
      );
    }
    for (const field of fields) {
      const index = headers.indexOf(field.name);
      if (index >= 0) columns.push({ field, header: field.name, index });
    }
  }
  const mapped = new Set(columns.map((c) => c.field.name));
  const required = fields.filter((f) => f.required && !mapped.has(f.name)).map((f) => f.name);
  const addressParts = ADDRESS_FIELDS.filter((f) => mapped.has(f));
  if (addressParts.length > 0 && addressParts.length < ADDRESS_FIELDS.length) {
    required.push(...ADDRESS_FIELDS.filter((f) => !mapped.has(f)));
  }
  if (required.length > 0) {
    throw new ReferenceCsvError(
      'CSV_MISSING_COLUMNS',
      `no column for required field${required.length > 1 ? 's' : ''} ${required.join(', ')} of ${kind}${addressParts.length > 0 ? ' (an address needs line, city, state and postalCode)' : ''}; add ${required.length > 1 ? 'them' : 'it'} to the file${mapping !== undefined ? ' or the mapping' : ' or map a column with --mapping'}`,
    );
  }
  return columns;
}
