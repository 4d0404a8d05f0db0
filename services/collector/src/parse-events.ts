import { printParseErrorCode, visit, type JSONPath } from 'jsonc-parser';
import { CollectorError, type ErrorDetail } from './errors.js';

/** The two body formats of `POST /v1/events`. */
export type BodyFormat = 'json' | 'ndjson';

export interface ParsedEvents {
  /** One parsed value per event, in request order. */
  values: unknown[];
  /** Problems JSON.parse does not report (duplicate keys, prototype keys, unrepresentable numbers), by event. */
  issues: ErrorDetail[];
}

/** Keys that would reach Object.prototype semantics in careless consumers; never legitimate in an event. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const VISIT_OPTIONS = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

/**
 * Parses the decoded body into event values without validating them as events.
 * Strict JSON.parse decides what is JSON; jsonc-parser's scanner then finds what JSON.parse
 * silently accepts: duplicate keys (last wins), `__proto__`/`constructor` keys, numbers that
 * overflow (1e400 → Infinity) or exceed 2^53 (rounded). Throws CollectorError for body-level
 * problems (empty, not JSON, not an array, too many events).
 */
export function parseEvents(text: string, format: BodyFormat, maxEvents: number): ParsedEvents {
  return format === 'json' ? parseJsonArray(text, maxEvents) : parseNdjson(text, maxEvents);
}

function parseJsonArray(text: string, maxEvents: number): ParsedEvents {
  if (text.trim() === '') {
    throw new CollectorError('INGEST_INVALID_BODY', 'the request body is empty; send a JSON array of 1 or more events');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = locateSyntaxError(text);
    throw new CollectorError(
      'INGEST_INVALID_BODY',
      `the body is not valid JSON: ${at?.message ?? (error as Error).message}`,
      {
        cause: error,
        details: at ? [{ line: at.line, column: at.column, message: at.message }] : [],
      },
    );
  }
  if (!Array.isArray(value)) {
    const message =
      typeof value === 'object' && value !== null
        ? 'the body is a single JSON object; wrap it in an array: [ {…event…} ]'
        : `the body must be a JSON array of events, got ${value === null ? 'null' : typeof value}`;
    throw new CollectorError('INGEST_INVALID_BODY', message);
  }
  checkCount(value.length, maxEvents);
  return {
    values: value,
    issues: mayHaveStructureIssues(text, value)
      ? scanStructure(text, (path) => (typeof path[0] === 'number' ? path[0] : undefined), 1)
      : [],
  };
}

function parseNdjson(text: string, maxEvents: number): ParsedEvents {
  const lines = text.split('\n');
  // One trailing newline (or several blank trailing lines) is the normal end of an NDJSON stream.
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) {
    throw new CollectorError('INGEST_INVALID_BODY', 'the request body is empty; send one JSON event per line');
  }
  checkCount(lines.length, maxEvents);
  const values: unknown[] = [];
  const issues: ErrorDetail[] = [];
  const syntax: ErrorDetail[] = [];
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lineNo = index + 1;
    if (line.trim() === '') {
      syntax.push({ index, line: lineNo, message: `line ${lineNo} is empty; NDJSON needs one event per line` });
      values.push(undefined);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
      values.push(value);
    } catch {
      const at = locateSyntaxError(line);
      syntax.push({
        index,
        line: lineNo,
        column: at?.column ?? 1,
        message: `line ${lineNo} is not valid JSON: ${at?.message ?? 'syntax error'}`,
      });
      values.push(undefined);
      return;
    }
    if (mayHaveStructureIssues(line, value)) issues.push(...scanStructure(line, () => index, 0));
  });
  if (syntax.length > 0) {
    throw new CollectorError('INGEST_INVALID_BODY', `${syntax.length} line(s) of the NDJSON body are not valid JSON`, {
      details: syntax,
    });
  }
  return { values, issues };
}

function checkCount(count: number, maxEvents: number): void {
  if (count === 0) throw new CollectorError('INGEST_INVALID_BODY', 'the array is empty; send 1 or more events');
  if (count > maxEvents) {
    throw new CollectorError(
      'INGEST_TOO_MANY_EVENTS',
      `the request holds ${count} events; at most ${maxEvents} are accepted per request, split the batch`,
    );
  }
}

/** First syntax error as 1-based line/column with jsonc-parser's name for it. */
function locateSyntaxError(text: string): { line: number; column: number; message: string } | undefined {
  let found: { line: number; column: number; message: string } | undefined;
  visit(
    text,
    {
      onError: (code, _offset, _length, startLine, startCharacter) => {
        found ??= {
          line: startLine + 1,
          column: startCharacter + 1,
          message: `${printParseErrorCode(code)} at line ${startLine + 1}, column ${startCharacter + 1}`,
        };
      },
    },
    VISIT_OPTIONS,
  );
  return found;
}

/**
 * Cheap pre-check for scanStructure: false only when the scan would report nothing, so the
 * scan (a full jsonc-parser walk, the costliest step of parsing) runs only for suspect bodies.
 * `value` is JSON.parse(text). Forbidden keys and unrepresentable numbers survive JSON.parse
 * and are found in `value`. A duplicate key does not survive (the last one wins), so the
 * properties written in the text (one ':' outside strings each) are counted against the keys
 * of the parsed objects: the counts differ exactly when some object repeats a key.
 * (parse-events.property.test.ts checks this against the full scan.)
 */
export function mayHaveStructureIssues(text: string, value: unknown): boolean {
  let keys = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const key of Object.keys(v)) {
        if (FORBIDDEN_KEYS.has(key)) return true;
        keys += 1;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
  }
  return countPropertiesInText(text) !== keys;
}

/** Number of ':' outside string literals in valid JSON, i.e. the number of object properties written. */
function countPropertiesInText(text: string): number {
  let count = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: its end is the next quote not escaped by an odd run of backslashes.
      for (;;) {
        const q = text.indexOf('"', i + 1);
        if (q < 0) return -1;
        let b = q - 1;
        while (text.charCodeAt(b) === 0x5c) b -= 1;
        i = q;
        if ((q - 1 - b) % 2 === 0) break;
      }
    } else if (c === 0x3a) {
      count += 1;
    }
    i += 1;
  }
  return count;
}

/**
 * Walks already-valid JSON and reports what JSON.parse let through. `eventIndexOf` maps a
 * JSON path to the event it lies in; `depth` is how many path segments lead to the event.
 */
/** The full structural scan (exported for the property test that pins mayHaveStructureIssues to it). */
export function scanStructure(
  text: string,
  eventIndexOf: (path: JSONPath) => number | undefined,
  depth: number,
): ErrorDetail[] {
  const issues: ErrorDetail[] = [];
  const keyStack: Set<string>[] = [];
  const at = (path: JSONPath, key?: string): { index?: number; path: string } => {
    const index = eventIndexOf(path);
    const inner = key === undefined ? path.slice(depth) : [...path.slice(depth), key];
    return { ...(index === undefined ? {} : { index }), path: formatPath(inner) };
  };
  visit(
    text,
    {
      onObjectBegin: () => {
        keyStack.push(new Set());
      },
      onObjectEnd: () => {
        keyStack.pop();
      },
      onObjectProperty: (key, _o, _l, _sl, _sc, pathSupplier) => {
        const seen = keyStack[keyStack.length - 1];
        if (FORBIDDEN_KEYS.has(key)) {
          const where = at(pathSupplier(), key);
          issues.push({ ...where, message: `key "${key}" is not allowed (prototype pollution guard)` });
        } else if (seen?.has(key)) {
          const where = at(pathSupplier(), key);
          issues.push({
            ...where,
            message: `duplicate key "${key.slice(0, 64)}" at ${where.path}; each key may appear once per object`,
          });
        }
        seen?.add(key);
      },
      onLiteralValue: (value, offset, length, _sl, _sc, pathSupplier) => {
        if (typeof value !== 'number') return;
        const literal = text.slice(offset, Math.min(offset + length, offset + 40));
        if (!Number.isFinite(value)) {
          issues.push({
            ...at(pathSupplier()),
            message: `number ${literal} is out of range (overflows a 64-bit float)`,
          });
        } else if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
          issues.push({
            ...at(pathSupplier()),
            message: `number ${literal} is larger than 2^53-1 and cannot be represented exactly`,
          });
        }
      },
    },
    VISIT_OPTIONS,
  );
  return issues;
}

function formatPath(path: JSONPath): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : p))
    .join('.')
    .replace(/\.\[/g, '[');
}
