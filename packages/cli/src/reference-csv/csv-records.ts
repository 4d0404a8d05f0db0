import { CsvError, parse } from 'csv-parse/sync';
import { MAX_RECORDS, validateReferenceRecords, type RecordProblem } from '@phi-audit/reference-api';
import type { ReferenceKind, ReferenceRecordOf } from '@phi-audit/rules';
import { convertCell } from './cell-values.js';
import { ADDRESS_FIELDS } from './csv-fields.js';
import { resolveColumns, type ColumnMappingFile, type MappedColumn } from './column-mapping.js';
import { ReferenceCsvError } from './errors.js';

/** Options of {@link recordsFromCsv}. */
export interface CsvRecordsOptions<K extends ReferenceKind> {
  kind: K;
  /** The whole file (UTF-8, with or without a BOM), header row first. */
  text: string;
  /** Field → column header; default: columns named like the fields. */
  mapping?: ColumnMappingFile;
  /** Reads date-only instants (`2024-03-01`) as local midnight here; without it they are refused. */
  timeZone?: string;
  /** Most data rows accepted (default MAX_RECORDS, what one load may carry). */
  maxRows?: number;
}

/** A CSV file read as reference records. */
export interface CsvRecords<K extends ReferenceKind> {
  /** Data rows read. */
  rows: number;
  /**
   * Every problem, in file order, as `line N, column "Header": message`. Never a cell's value.
   * `records` may be sent only when this is empty.
   */
  problems: string[];
  records: ReferenceRecordOf[K][];
  /** Locates a problem the server reported for record `index` (same order as the rows). */
  describe(problem: RecordProblem): string;
}

/** What a csv-parse error code means, said without quoting the file (its messages can quote cells). */
function describeCsvError(code: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted cell is never closed';
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return 'the row has a different number of cells than the header row';
    case 'CSV_INVALID_OPENING_QUOTE':
      return 'a quote appears inside an unquoted cell (quote the whole cell and double inner quotes)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a character follows the closing quote of a cell';
    default:
      return `malformed CSV (${code})`;
  }
}

interface ParsedRow {
  record: string[];
  info: { lines: number };
}

function parseCsv(text: string): ParsedRow[] {
  try {
    return parse(text, { bom: true, info: true, skip_empty_lines: true, trim: true }) as unknown as ParsedRow[];
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new ReferenceCsvError(
        'CSV_UNREADABLE',
        `${line !== undefined ? `line ${line}: ` : ''}${describeCsvError(error.code)}`,
        { cause: error },
      );
    }
    throw error;
  }
}

function headersOf(rows: readonly ParsedRow[]): string[] {
  const headers = rows[0]?.record;
  if (headers === undefined) throw new ReferenceCsvError('CSV_BAD_HEADER', 'the file is empty: no header row');
  const blank = headers.findIndex((h) => h === '');
  if (blank >= 0) throw new ReferenceCsvError('CSV_BAD_HEADER', `column ${blank + 1} of the header row has no name`);
  const repeated = headers.filter((h, i) => headers.indexOf(h) !== i);
  if (repeated.length > 0) {
    throw new ReferenceCsvError('CSV_BAD_HEADER', `the header row repeats column "${repeated[0]}"`);
  }
  return headers;
}

function setField(record: Record<string, unknown>, name: string, value: unknown): void {
  const dot = name.indexOf('.');
  if (dot < 0) {
    record[name] = value;
    return;
  }
  const parent = name.slice(0, dot);
  const nested = (record[parent] ??= {}) as Record<string, unknown>;
  nested[name.slice(dot + 1)] = value;
}

const isAddressField = (name: string): boolean => (ADDRESS_FIELDS as readonly string[]).includes(name);

/**
 * Reads a CSV file as records of `kind`: resolves the columns (mapping or field-named headers),
 * converts each non-empty cell by its field's type (empty = absent), validates every row with the
 * API's own validation (REFERENCE_RECORD_SCHEMAS, no repeated key) and reports every problem
 * by line and column. Throws ReferenceCsvError for a problem of the file as a whole.
 */
export function recordsFromCsv<K extends ReferenceKind>(options: CsvRecordsOptions<K>): CsvRecords<K> {
  const { kind, timeZone } = options;
  const maxRows = options.maxRows ?? MAX_RECORDS;
  const parsed = parseCsv(options.text);
  const headers = headersOf(parsed);
  const rows = parsed.slice(1);
  if (rows.length === 0) throw new ReferenceCsvError('CSV_BAD_HEADER', 'the file has a header row but no data rows');
  if (rows.length > maxRows) {
    throw new ReferenceCsvError(
      'CSV_TOO_MANY_ROWS',
      `the file has ${rows.length} data rows; one import loads at most ${maxRows}: split it into several files`,
    );
  }
  const columns = resolveColumns(kind, headers, options.mapping);
  const addressColumns = columns.filter((c) => isAddressField(c.field.name));

  const located: { line: number; text: string }[] = [];
  const lines = rows.map((r) => r.info.lines);
  const columnOf = (path: string): MappedColumn | undefined =>
    columns.find((c) => c.field.name === path) ?? (path === 'address' ? addressColumns[0] : undefined);
  const describe = ({ index, path, message }: RecordProblem): string => {
    const where = `line ${lines[index] ?? `? (record ${index})`}`;
    if (path === '') return `${where}: ${message}`;
    const column = columnOf(path);
    return column !== undefined
      ? `${where}, column "${column.header}": ${message}`
      : `${where}, field ${path} (no column): ${message}`;
  };

  // Fields whose cell was already reported per row: the schema's complaint about them would repeat it.
  const failed: Set<string>[] = [];
  const values = rows.map(({ record: cells }, index) => {
    const record: Record<string, unknown> = {};
    const bad = new Set<string>();
    failed.push(bad);
    const report = (column: MappedColumn, message: string): void => {
      bad.add(column.field.name);
      located.push({ line: lines[index]!, text: describe({ index, path: column.field.name, message }) });
    };
    const hasAddress = addressColumns.some((c) => (cells[c.index] ?? '') !== '');
    for (const column of columns) {
      const cell = cells[column.index] ?? '';
      if (cell === '') {
        if (column.field.required) report(column, 'is empty; a value is required');
        else if (hasAddress && isAddressField(column.field.name))
          report(column, 'is empty; an address needs line, city, state and postalCode');
        continue;
      }
      const converted = convertCell(cell, column.field.type, timeZone);
      if (converted.ok) setField(record, column.field.name, converted.value);
      else report(column, converted.message);
    }
    return record;
  });

  const validated = validateReferenceRecords(kind, values);
  if (!validated.ok) {
    for (const problem of validated.problems) {
      const bad = failed[problem.index];
      const repeats = bad !== undefined && [...bad].some((f) => problem.path === f || problem.path.startsWith(`${f}.`));
      if (!repeats) located.push({ line: lines[problem.index] ?? 0, text: describe(problem) });
    }
  }
  // Stable: problems of one line keep their column order.
  located.sort((a, b) => a.line - b.line);
  return {
    rows: rows.length,
    problems: located.map((p) => p.text),
    records: validated.ok && located.length === 0 ? validated.records : [],
    describe,
  };
}
