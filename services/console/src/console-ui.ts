import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The console's web UI (issue 6): a static single-page app under `/console/` (hash routing), its
 * compiled scripts (services/console/ui, built by `tsc -b` into ui/dist) and Chart.js for the
 * dashboard. Every UI response carries a strict CSP: the app has no inline script or style, so a
 * value that slipped past the UI's text-only rendering still could not run.
 */

/** Where the UI lives, relative to the server root. */
export const CONSOLE_UI_PREFIX = '/console';

/** This file sits in src/ (tests) or dist/ (built): both are one level below the package. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const STATIC_DIR = join(PACKAGE_DIR, 'ui', 'static');
const SCRIPT_DIR = join(PACKAGE_DIR, 'ui', 'dist');

export const CONSOLE_UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** chart.umd.js of the pinned chart.js (its exports map hides dist/, so resolve the main file). */
function chartJsFile(): string {
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');
}

/**
 * Registers the UI on `scope` (the console's scope: its routes are marked public by the
 * console's onRoute hook, since the page and scripts hold no data; the API checks every call)
 * and, when nothing else serves `/`, a redirect from `/` to the UI.
 */
export async function registerConsoleUi(scope: FastifyInstance): Promise<void> {
  await scope.register(async (ui) => {
    ui.addHook('onSend', async (request, reply) => {
      void reply.header('content-security-policy', CONSOLE_UI_CSP);
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('referrer-policy', 'no-referrer');
      void reply.header('x-frame-options', 'DENY');
      // The page itself is never cached, so a new version and a logout take effect at once.
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('text/html')) void reply.header('cache-control', 'no-store');
    });
    await ui.register(fastifyStatic, {
      root: [STATIC_DIR, SCRIPT_DIR],
      prefix: `${CONSOLE_UI_PREFIX}/`,
      decorateReply: false,
      index: 'index.html',
      // Source maps and declaration files are build by-products, not part of the UI.
      allowedPath: (path) => !/\.(map|d\.ts)$/.test(path),
    });
    ui.get(CONSOLE_UI_PREFIX, { schema: { hide: true } }, (_request, reply) => reply.redirect(`${CONSOLE_UI_PREFIX}/`));
    let chart: Buffer | undefined;
    ui.get(`${CONSOLE_UI_PREFIX}/vendor/chart.umd.js`, { schema: { hide: true } }, async (_request, reply) => {
      chart ??= await readFile(chartJsFile());
      return reply.type('text/javascript; charset=utf-8').send(chart);
    });
  });
  if (!scope.hasRoute({ method: 'GET', url: '/' })) {
    scope.get('/', { config: { access: { public: true } }, schema: { hide: true } }, (_request, reply) =>
      reply.redirect(`${CONSOLE_UI_PREFIX}/`),
    );
  }
}
