import { describe, expect, it } from 'vitest';
import { CodedError, codedErrorGuard } from './coded-error.js';

type DemoCode = 'DEMO_A' | 'DEMO_B';

class DemoError extends CodedError<DemoCode> {
  override readonly name = 'DemoError';
}
const isDemoError = codedErrorGuard(DemoError);

class OtherError extends CodedError<'OTHER'> {
  override readonly name = 'OtherError';
}

describe('CodedError', () => {
  it('carries code, message and name, and is an Error of its own class', () => {
    const err = new DemoError('DEMO_A', 'something failed');
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toBeInstanceOf(DemoError);
    expect(err.code).toBe('DEMO_A');
    expect(err.message).toBe('something failed');
    expect(err.name).toBe('DemoError');
    expect(String(err)).toBe('DemoError: something failed');
    expect(err.stack).toContain('DemoError: something failed');
  });

  it('keeps the original error as cause, and sets no cause when none is given', () => {
    const original = new Error('driver said no');
    expect(new DemoError('DEMO_B', 'wrapped', { cause: original }).cause).toBe(original);
    const plain = new DemoError('DEMO_B', 'plain');
    expect('cause' in plain).toBe(false);
    expect('cause' in new DemoError('DEMO_B', 'explicitly undefined', { cause: undefined })).toBe(false);
  });
});

describe('codedErrorGuard', () => {
  it('matches instances of the class, optionally by code', () => {
    const err = new DemoError('DEMO_A', 'x');
    expect(isDemoError(err)).toBe(true);
    expect(isDemoError(err, 'DEMO_A')).toBe(true);
    expect(isDemoError(err, 'DEMO_B')).toBe(false);
  });

  it('rejects other catalogues, plain errors and look-alikes', () => {
    expect(isDemoError(new OtherError('OTHER', 'x'))).toBe(false);
    expect(isDemoError(new Error('x'))).toBe(false);
    expect(isDemoError({ name: 'DemoError', code: 'DEMO_A', message: 'x' })).toBe(false);
    expect(isDemoError(undefined)).toBe(false);
  });
});
