import { describe, expect, it } from 'vitest';
import { insertSettingsFor } from './query-settings.js';

describe('insertSettingsFor', () => {
  it('sends 18.16 only settings it knows, and turns off parallel parsing and async inserts where they exist', () => {
    expect(insertSettingsFor('18.16.1')).toEqual({ max_insert_block_size: 1_048_449 });
    expect(insertSettingsFor('20.3.1')).toEqual({ max_insert_block_size: 1_048_449, input_format_parallel_parsing: 0 });
    expect(insertSettingsFor('21.11.2')).toEqual({
      max_insert_block_size: 1_048_449,
      input_format_parallel_parsing: 0,
      async_insert: 0,
    });
    expect(insertSettingsFor('25.8.2.29')).toMatchObject({ input_format_parallel_parsing: 0, async_insert: 0 });
  });
});
