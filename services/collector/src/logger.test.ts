import { describe, expect, it } from 'vitest';
import { createCollectorLogger } from './logger.js';

describe('collector logger redaction', () => {
  it('redacts authorization headers, keys, secrets and event bodies wherever they are logged', () => {
    const lines: string[] = [];
    const log = createCollectorLogger({ destination: { write: (s: string) => void lines.push(s) } });
    log.info({ req: { headers: { authorization: 'Bearer phia_SECRETKEY', cookie: 'sid=COOKIE' } } }, 'a');
    log.info(
      { key: 'phia_KEY2', secret: 'SECRET2', body: '[{"patient":"P1"}]', events: [{ patient: { id: 'P2' } }] },
      'b',
    );
    log.child({ tenant: 't' }).warn(
      {
        ctx: { authorization: 'Bearer X3', event: { patient: { id: 'P3' } } },
        patient: { id: 'P4' },
        actor: { userId: 'U5' },
      },
      'c',
    );
    const all = lines.join('');
    for (const leaked of ['SECRETKEY', 'COOKIE', 'KEY2', 'SECRET2', 'P1', 'P2', 'X3', 'P3', 'P4', 'U5'])
      expect(all).not.toContain(leaked);
    expect(all.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(9);
    expect(all).toContain('"tenant":"t"');
  });
});
