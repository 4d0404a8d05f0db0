import { describe, expect, it } from 'vitest';
import { parseConnectionOptions } from './connection-options.js';

describe('parseConnectionOptions', () => {
  it('takes credentials and the database from the URL; the database option wins', () => {
    expect(parseConnectionOptions({ url: 'http://w%40x:p%2Fss@db.local:8123/ledger' })).toEqual({
      url: 'http://db.local:8123',
      username: 'w@x',
      password: 'p/ss',
      database: 'ledger',
    });
    expect(parseConnectionOptions({ url: 'http://db.local:8123/ledger', database: 'other' }).database).toBe('other');
    expect(parseConnectionOptions({ url: 'https://db.local' })).toEqual({
      url: 'https://db.local',
      username: 'default',
      password: '',
      database: 'phi_audit',
    });
  });

  it('refuses unusable URLs and database names without echoing the password', () => {
    for (const url of ['not a url', 'ftp://h/x', 'http://u:hunter2@h:1/Bad-Name', 'http://u:hunter2@h:1/db?x=1']) {
      let message = '';
      try {
        parseConnectionOptions({ url });
      } catch (err) {
        expect(err).toMatchObject({ code: 'STORE_INVALID_OPTIONS' });
        message = (err as Error).message;
      }
      expect(message, url).not.toBe('');
      expect(message).not.toContain('hunter2');
    }
    expect(() => parseConnectionOptions({ url: 'http://h', database: 'x;DROP' })).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID_OPTIONS' }),
    );
  });
});
