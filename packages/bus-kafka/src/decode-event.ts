import { describeZodIssues, safeParseSealedAccessEvent, type AccessEvent } from '@phi-audit/schema';

/** Why a message is not an event. Deterministic in the message bytes, so a replay decides the same. */
export type DecodeProblem =
  | { kind: 'not_utf8'; detail: string }
  | { kind: 'not_json'; detail: string }
  | { kind: 'invalid_event'; detail: string; issues: number };

export type DecodeResult = { ok: true; event: AccessEvent } | { ok: false; problem: DecodeProblem };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_DETAIL = 2_000;

/**
 * Turns a message value into a canonical AccessEvent, or says why it is poison. The one decoder
 * of the events topic: the ledger-writer and the detector decide alike on every message.
 * Invalid UTF-8 is rejected rather than repaired: repairing would store bytes nobody sent.
 * `detail` names fields and schema rules only, never values.
 */
export function decodeEvent(value: Buffer): DecodeResult {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { ok: false, problem: { kind: 'not_utf8', detail: 'message value is not valid UTF-8' } };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      ok: false,
      problem: {
        kind: 'not_json',
        detail: value.length === 0 ? 'message value is empty' : 'message value is not JSON',
      },
    };
  }
  // Sealed (frozen, marked valid): the chain builder does not validate it a second time.
  const parsed = safeParseSealedAccessEvent(json);
  if (!parsed.success) {
    const issues = describeZodIssues(parsed.error);
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return {
      ok: false,
      problem: { kind: 'invalid_event', detail: detail.slice(0, MAX_DETAIL), issues: issues.length },
    };
  }
  return { ok: true, event: parsed.data };
}
