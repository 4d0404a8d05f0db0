import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_UI_CSP } from './console-ui.js';
import { createConsoleFixture, type ConsoleFixture } from './testing/console-fixture.js';

// The web UI's files as the browser gets them: public (no session), under a strict CSP, the page
// never cached. Needs the UI built (`npx tsc -b`) for the scripts.
let f: ConsoleFixture;
beforeAll(async () => {
  f = await createConsoleFixture();
});
afterAll(async () => {
  await f.close();
});

describe('console web UI', () => {
  it('serves the page at /console/ with the CSP, nosniff, no-referrer and no-store', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/console/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['content-security-policy']).toBe(CONSOLE_UI_CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<script type="module" src="main.js"></script>');
    // CSP forbids inline code: the page has none to forbid.
    expect(res.body).not.toMatch(/<script>|<style|style=|\son[a-z]+=/i);
  });

  it('serves the scripts, the stylesheet and Chart.js with the same headers', async () => {
    for (const [url, type] of [
      ['/console/main.js', 'javascript'],
      ['/console/views/alerts.js', 'javascript'],
      ['/console/console.css', 'text/css'],
      ['/console/vendor/chart.umd.js', 'javascript'],
    ] as const) {
      const res = await f.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toContain(type);
      expect(res.headers['content-security-policy'], url).toBe(CONSOLE_UI_CSP);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('does not serve source maps, declarations or files outside the UI', async () => {
    for (const url of [
      '/console/main.js.map',
      '/console/main.d.ts',
      '/console/../package.json',
      '/console/%2e%2e/src/main.ts',
    ]) {
      const res = await f.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
    }
  });

  it('redirects / and /console to the UI', async () => {
    for (const url of ['/', '/console']) {
      const res = await f.app.inject({ method: 'GET', url });
      expect([301, 302], url).toContain(res.statusCode);
      expect(res.headers.location, url).toBe('/console/');
    }
  });
});
