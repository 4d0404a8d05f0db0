/**
 * The shape every package's error catalogue shares: a stable `code` callers and tests match on
 * (never the message text), and the original error kept as `cause`. Each package declares its
 * own subclass with its own code union and `name`, so `instanceof` tells the packages apart.
 */
export abstract class CodedError<C extends string> extends Error {
  abstract override readonly name: string;
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * Builds the `isXError(err, code?)` guard of a catalogue: true when `err` is an instance of
 * `errorClass`, and, if `code` is given, carries that code.
 */
export function codedErrorGuard<E extends CodedError<string>>(
  errorClass: abstract new (...args: never[]) => E,
): (err: unknown, code?: E['code']) => err is E {
  return (err: unknown, code?: E['code']): err is E =>
    err instanceof errorClass && (code === undefined || err.code === code);
}
