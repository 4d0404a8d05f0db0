import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { CollectorError } from './errors.js';

const gunzipAsync = promisify(gunzip);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodeBodyOptions {
  raw: Buffer;
  /** The request's Content-Encoding header, if any (already checked to be gzip or identity). */
  contentEncoding: string | undefined;
  /** Limit on the decompressed size; a gzip bomb stops here instead of filling memory. */
  maxBytes: number;
}

/** Undoes Content-Encoding (gzip, with a size limit) and decodes strict UTF-8. */
export async function decodeBody({ raw, contentEncoding, maxBytes }: DecodeBodyOptions): Promise<string> {
  let bytes = raw;
  if (isGzip(contentEncoding)) {
    try {
      // maxOutputLength makes zlib stop inflating at the limit rather than after the damage.
      bytes = await gunzipAsync(raw, { maxOutputLength: maxBytes });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        throw new CollectorError(
          'INGEST_BODY_TOO_LARGE',
          `the gzip body decompresses to more than ${maxBytes} bytes, the limit`,
          { cause: error },
        );
      }
      throw new CollectorError('INGEST_INVALID_BODY', 'the body is not valid gzip data (Content-Encoding: gzip)', {
        cause: error,
      });
    }
  }
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new CollectorError(
      'INGEST_INVALID_BODY',
      `the body is not valid UTF-8 (invalid byte sequence near byte ${firstInvalidUtf8Offset(bytes)})`,
      {
        cause: error,
      },
    );
  }
}

/** True for `gzip` / `x-gzip`; false for none or `identity`. Anything else must be rejected before. */
export function isGzip(contentEncoding: string | undefined): boolean {
  const e = contentEncoding?.trim().toLowerCase();
  return e === 'gzip' || e === 'x-gzip';
}

/** True when the encoding is one the endpoint reads. */
export function isSupportedEncoding(contentEncoding: string | undefined): boolean {
  const e = contentEncoding?.trim().toLowerCase();
  return e === undefined || e === '' || e === 'identity' || isGzip(e);
}

/** Locates the first invalid UTF-8 byte so the client can find it (binary search over fatal decodes). */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // Invariant: the prefix [0, lo) decodes (allowing an incomplete final sequence), [0, hi) does not.
  const decodes = (end: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (decodes(mid)) lo = mid;
    else hi = mid;
  }
  // The failing byte may be the bad continuation of a sequence that began up to 3 bytes earlier.
  const start = hi - 1;
  for (let back = 1; back <= 3 && start - back >= 0; back++) {
    const b = bytes[start - back]!;
    if (b >= 0xc0) return start - back;
    if (b < 0x80) break;
  }
  return start;
}
