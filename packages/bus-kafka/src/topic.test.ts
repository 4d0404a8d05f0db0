import { describe, expect, it } from 'vitest';
import { BusError, errorSummary, isBusError } from './errors.js';
import { DEFAULT_TOPIC, originFor, partitionKey } from './topic.js';

describe('topic naming', () => {
  it('names one log per partition of a topic', () => {
    expect(originFor(DEFAULT_TOPIC, 3)).toBe('phi-audit/phi-audit.access-events/3');
    expect(originFor('t', 0)).not.toBe(originFor('t', 1));
  });
  it('keys events by tenant and user', () => {
    expect(partitionKey({ tenant: 'clinic-a', actor: { userId: 'u:17' } })).toBe('clinic-a:u:17');
  });
});

describe('errorSummary', () => {
  it('keeps catalogue messages and drops foreign ones, which may echo data', () => {
    const foreign = new Error('Cannot parse input: {"patient":{"id":"P-123"}}');
    const ours = new BusError('BUS_PRODUCE_FAILED', 'send to topic x failed', { cause: foreign });
    expect(isBusError(ours, 'BUS_PRODUCE_FAILED')).toBe(true);
    expect(errorSummary(ours)).toEqual({
      errorName: 'BusError',
      errorCode: 'BUS_PRODUCE_FAILED',
      errorMessage: 'send to topic x failed',
      causes: ['Error'],
    });
    expect(JSON.stringify(errorSummary(foreign))).not.toContain('P-123');
  });
});
