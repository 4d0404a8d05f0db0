import {
  REFERENCE_RECORD_SCHEMAS,
  referenceKey,
  type ReferenceKind,
  type ReferenceRecord,
  type ReferenceRecordOf,
} from '@phi-audit/rules';
import type { z } from 'zod';
import { ReferenceApiError, type RecordProblem } from './errors.js';

/** Most records one load may carry. */
export const MAX_RECORDS = 100_000;

/** The result of {@link validateReferenceRecords}: the parsed records, or every problem. */
export type ValidatedRecords<K extends ReferenceKind> =
  { ok: true; records: ReferenceRecordOf[K][] } | { ok: false; problems: RecordProblem[] };

/** The field a record's key is read from, named in a duplicate-key problem. */
const KEY_FIELD: Record<ReferenceKind, string> = { patients: 'id', workforce: 'userId', relationships: '' };

const pathOf = (path: readonly PropertyKey[]): string => path.map(String).join('.');

/** Problems of one zod issue list, located by path; messages are zod's, which never quote input values. */
function problemsOf(index: number, issues: readonly z.core.$ZodIssue[]): RecordProblem[] {
  return issues.flatMap((issue) =>
    // One problem per unknown field, so a caller (the CSV import) can point at each.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ index, path: pathOf([...issue.path, key]), message: 'unknown field' }))
      : [{ index, path: pathOf(issue.path), message: issue.message }],
  );
}

/**
 * Validates every record of one load with the kind's schema (defaults applied) and rejects a
 * record repeating the key of an earlier one (one load must say one thing per key). Every
 * record is checked, so the caller can report all problems at once. Pure; no values are quoted.
 */
export function validateReferenceRecords<K extends ReferenceKind>(
  kind: K,
  values: readonly unknown[],
): ValidatedRecords<K> {
  const schema: z.ZodType<ReferenceRecord> = REFERENCE_RECORD_SCHEMAS[kind];
  const problems: RecordProblem[] = [];
  const records: ReferenceRecord[] = [];
  const firstIndexOfKey = new Map<string, number>();
  values.forEach((value, index) => {
    const parsed = schema.safeParse(value, { reportInput: false });
    if (!parsed.success) {
      problems.push(...problemsOf(index, parsed.error.issues));
      return;
    }
    const key = referenceKey(kind, parsed.data);
    const first = firstIndexOfKey.get(key);
    if (first !== undefined) {
      problems.push({ index, path: KEY_FIELD[kind], message: `repeats the key of record ${first} in this load` });
      return;
    }
    firstIndexOfKey.set(key, index);
    records.push(parsed.data);
  });
  // The schema of `kind` produced every record, so they are records of `kind`.
  return problems.length > 0 ? { ok: false, problems } : { ok: true, records: records as ReferenceRecordOf[K][] };
}

/**
 * The records array of a load body `{"records": [...]}` with 1..MAX_RECORDS entries. Throws
 * REFERENCE_INVALID_BODY (or REFERENCE_TOO_MANY_RECORDS) naming the problem; never quotes values.
 */
export function recordsOfBody(body: unknown): unknown[] {
  const shape = 'send a JSON object {"records": [ ... ]}';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ReferenceApiError('REFERENCE_INVALID_BODY', `the body is not a JSON object; ${shape}`);
  }
  const unknown = Object.keys(body).filter((k) => k !== 'records');
  if (unknown.length > 0) {
    // Tenant and source come from the key, so a body naming a tenant is refused, not ignored.
    const names = unknown.slice(0, 5).map((k) => `"${k.slice(0, 40)}"`);
    throw new ReferenceApiError(
      'REFERENCE_INVALID_BODY',
      `unknown field${unknown.length > 1 ? 's' : ''} ${names.join(', ')} in the body; ${shape} (the tenant comes from the key)`,
    );
  }
  const records = (body as { records?: unknown }).records;
  if (records === undefined) throw new ReferenceApiError('REFERENCE_INVALID_BODY', `records is missing; ${shape}`);
  if (!Array.isArray(records)) {
    throw new ReferenceApiError('REFERENCE_INVALID_BODY', `records is not an array; ${shape}`);
  }
  if (records.length === 0) {
    throw new ReferenceApiError('REFERENCE_INVALID_BODY', 'records is empty; send at least 1 record');
  }
  if (records.length > MAX_RECORDS) {
    throw new ReferenceApiError(
      'REFERENCE_TOO_MANY_RECORDS',
      `${records.length} records in one load; at most ${MAX_RECORDS} are allowed, split the file`,
    );
  }
  return records as unknown[];
}
