/**
 * The console's hash router. Pages live at `#/<path>?<query>`; the table below maps each path
 * pattern to a page module.
 *
 * To add a page: create `views/<name>.ts` exporting a `Page` (page.ts: title, allowed roles,
 * render), then add ONE line to ROUTES here: `{ path: 'cases/:id', page: caseDetailPage }`,
 * with `nav: 'Cases'` if it belongs in the top navigation. Nothing else needs to change.
 */
import { h, notice } from './dom.js';
import type { Page, PageContext } from './page.js';
import type { Me } from './session.js';
import { accessReportPage } from './views/access-report.js';
import { alertDetailPage } from './views/alert-detail.js';
import { alertsPage } from './views/alerts.js';
import { caseDetailPage } from './views/case-detail.js';
import { casesPage } from './views/cases.js';
import { dashboardPage } from './views/dashboard.js';
import { searchPage } from './views/search.js';

export interface Route {
  /** Segments; `:name` matches one segment into params.name. */
  readonly path: string;
  readonly page: Page;
  /** Label in the top navigation (omit for detail pages). */
  readonly nav?: string;
}

export const ROUTES: readonly Route[] = [
  { path: 'dashboard', page: dashboardPage, nav: 'Dashboard' },
  { path: 'alerts', page: alertsPage, nav: 'Alerts' },
  { path: 'alerts/:id', page: alertDetailPage },
  { path: 'cases', page: casesPage, nav: 'Cases' },
  { path: 'cases/:id', page: caseDetailPage },
  { path: 'search', page: searchPage, nav: 'Search accesses' },
  { path: 'report', page: accessReportPage, nav: 'Patient access report' },
];

export interface Match {
  readonly route: Route;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
}

/** Splits `#/alerts/abc?status=open` into its route, params and query; undefined when nothing matches. */
export function match(hash: string): Match | undefined {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const segments = path.split('/').filter((s) => s !== '');
  for (const route of ROUTES) {
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((part, i) => {
      const segment = segments[i] ?? '';
      if (part.startsWith(':')) {
        try {
          params[part.slice(1)] = decodeURIComponent(segment);
        } catch {
          return false;
        }
        return true;
      }
      return part === segment;
    });
    if (ok) return { route, params, query: new URLSearchParams(search) };
  }
  return undefined;
}

/** `#/path?query` from a path and the non-empty query values. */
export function hashOf(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const s = params.toString();
  return `#${path.startsWith('/') ? path : `/${path}`}${s === '' ? '' : `?${s}`}`;
}

/** The first page in the navigation the role may open (the landing page). */
export function homeOf(me: Me): string | undefined {
  return ROUTES.find((r) => r.nav !== undefined && r.page.allowed(me.role))?.path;
}

/**
 * Renders the page of the current hash into `outlet`. Each render gets a fresh element, so a slow
 * page that finishes after the user moved on writes into a detached node, never over the new page.
 */
export async function renderRoute(outlet: HTMLElement, me: Me, tenant: string): Promise<void> {
  const found = match(location.hash);
  const root = h('section', { class: 'page' });
  outlet.replaceChildren(root);
  if (found === undefined) {
    const home = homeOf(me);
    if (home !== undefined && location.hash !== `#/${home}`) {
      location.replace(`#/${home}`);
      return;
    }
    root.append(
      h('h1', {}, 'Nothing to show'),
      h('p', {}, 'Your role has no pages here yet. Ask an administrator if you need access to alerts or reports.'),
    );
    return;
  }
  const { route, params, query } = found;
  document.title = `${route.page.title} · phi-audit`;
  if (!route.page.allowed(me.role)) {
    root.append(h('h1', {}, route.page.title), h('p', {}, 'Your role cannot open this page.'));
    return;
  }
  if (tenant === '') {
    root.append(
      h('h1', {}, route.page.title),
      notice('info', 'Type the practice (tenant) id in the box at the top of the page and press Show.'),
    );
    return;
  }
  const ctx: PageContext = {
    me,
    tenant,
    params,
    query,
    navigate: (path, q) => {
      location.hash = hashOf(path, q);
    },
  };
  await route.page.render(root, ctx);
}
