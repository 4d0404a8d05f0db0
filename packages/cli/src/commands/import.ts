import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ReferenceErrorBody } from '@phi-audit/reference-api';
import { REFERENCE_KINDS, type ReferenceKind } from '@phi-audit/rules';
import { isTimeZone } from '../reference-csv/cell-values.js';
import { parseColumnMapping, type ColumnMappingFile } from '../reference-csv/column-mapping.js';
import { recordsFromCsv, type CsvRecords } from '../reference-csv/csv-records.js';
import { ReferenceCsvError } from '../reference-csv/errors.js';

/** Exit codes of `phi-audit import`. */
export const IMPORT_EXIT = { ok: 0, refused: 1, error: 2 } as const;

/** Options of {@link runImport}. */
export interface ImportOptions {
  kind: string;
  file: string;
  mappingFile?: string;
  url: string;
  /** Needed unless `dryRun`. */
  key?: string;
  timeZone?: string;
  dryRun: boolean;
  /** The result line. */
  out: NodeJS.WritableStream;
  /** Problems and refusals: lines, columns and codes, never cell values. */
  err: NodeJS.WritableStream;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
}

/** Prints the server's refusal, its per-record problems located in the file. */
async function reportRefusal(
  response: Response,
  csv: CsvRecords<ReferenceKind>,
  err: NodeJS.WritableStream,
): Promise<void> {
  const text = await response.text().catch(() => '');
  let body: Partial<ReferenceErrorBody> | undefined;
  try {
    body = JSON.parse(text) as Partial<ReferenceErrorBody>;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  if (e === undefined) {
    err.write(`phi-audit: the server refused the import: ${response.status} ${text.slice(0, 200)}\n`);
    return;
  }
  err.write(`phi-audit: the server refused the import: ${response.status} ${e.code}: ${e.message}\n`);
  for (const problem of e.problems ?? []) err.write(`  ${csv.describe(problem)}\n`);
  if (e.moreProblems !== undefined) err.write(`  … and ${e.moreProblems} more\n`);
}

/**
 * `phi-audit import`: reads a CSV of patients, workforce or relationships, checks every row
 * locally (the API's own validation) and sends the whole file as one load. Returns the exit
 * code: 0 imported (or valid, with `dryRun`), 1 problems in the file or refused by the server.
 */
export async function runImport(options: ImportOptions): Promise<number> {
  const { err, out } = options;
  if (!(REFERENCE_KINDS as readonly string[]).includes(options.kind)) {
    throw new Error(`unknown kind "${options.kind}": use ${REFERENCE_KINDS.join(', ')}`);
  }
  const kind = options.kind as ReferenceKind;
  if (options.timeZone !== undefined && !isTimeZone(options.timeZone)) {
    throw new Error(`--time-zone "${options.timeZone}" is not a time zone this system knows (e.g. America/New_York)`);
  }
  if (!options.dryRun && !options.key) {
    throw new Error(
      'an ingest key is required: --key <key> or PHI_AUDIT_KEY (create one with `phi-audit keys create`)',
    );
  }
  let csv: CsvRecords<ReferenceKind>;
  try {
    const mapping: ColumnMappingFile | undefined =
      options.mappingFile === undefined
        ? undefined
        : parseColumnMapping(kind, await readText(options.mappingFile, 'mapping file'), options.mappingFile);
    csv = recordsFromCsv({
      kind,
      text: await readText(options.file, 'CSV file'),
      ...(mapping !== undefined ? { mapping } : {}),
      ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
    });
  } catch (error) {
    if (!(error instanceof ReferenceCsvError)) throw error;
    err.write(`phi-audit: ${basename(options.file)}: ${error.message}; nothing was sent\n`);
    return IMPORT_EXIT.refused;
  }
  if (csv.problems.length > 0) {
    const n = csv.problems.length;
    err.write(`phi-audit: ${basename(options.file)} has ${n} problem${n === 1 ? '' : 's'}; nothing was sent:\n`);
    for (const problem of csv.problems) err.write(`  ${problem}\n`);
    return IMPORT_EXIT.refused;
  }
  if (options.dryRun) {
    out.write(`${csv.records.length} ${kind} records are valid; nothing was sent (--dry-run)\n`);
    return IMPORT_EXIT.ok;
  }

  const url = `${options.url.replace(/\/+$/, '')}/v1/reference/${kind}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.key ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: csv.records }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new Error(`cannot reach ${options.url} (${cause?.code ?? (error as Error).message}); nothing was imported`, {
      cause: error,
    });
  }
  if (!response.ok) {
    await reportRefusal(response, csv, err);
    return IMPORT_EXIT.refused;
  }
  const result = (await response.json()) as { version?: number; count?: number };
  out.write(`imported ${result.count ?? csv.records.length} ${kind} as version ${result.version ?? '?'}\n`);
  return IMPORT_EXIT.ok;
}

/** `phi-audit import <kind> <file.csv>`: loads reference data from a CSV file through the API. */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      `Load reference data (${REFERENCE_KINDS.join(', ')}) from a CSV file into a running phi-audit, as one new version`,
    )
    .argument('<kind>', REFERENCE_KINDS.join(' | '))
    .argument('<file>', 'CSV file with a header row')
    .option('--mapping <file>', 'JSON object { "<field>": "<CSV column header>" } (default: headers are field names)')
    .option('--url <url>', 'phi-audit base URL', 'http://127.0.0.1:8080')
    .option('--key <key>', 'ingest key of the tenant (default: $PHI_AUDIT_KEY, else $PHI_AUDIT_INGEST_KEY)')
    .option('--time-zone <zone>', 'IANA zone in which a date-only time (hiredAt, validFrom, …) means local midnight')
    .option('--dry-run', 'check the file and report problems; send nothing', false)
    .action(
      async (
        kind: string,
        file: string,
        opts: { mapping?: string; url: string; key?: string; timeZone?: string; dryRun: boolean },
      ) => {
        const key = opts.key ?? (process.env.PHI_AUDIT_KEY || process.env.PHI_AUDIT_INGEST_KEY || undefined);
        process.exitCode = await runImport({
          kind,
          file,
          url: opts.url,
          dryRun: opts.dryRun,
          ...(opts.mapping !== undefined ? { mappingFile: opts.mapping } : {}),
          ...(key !== undefined ? { key } : {}),
          ...(opts.timeZone !== undefined ? { timeZone: opts.timeZone } : {}),
          out: process.stdout,
          err: process.stderr,
        });
      },
    );
}
