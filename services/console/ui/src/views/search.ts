import { get, queryString, tenantPath } from '../api.js';
import type { SearchPage } from '../api-types.js';
import { field, h, notice, select, replace } from '../dom.js';
import { ACTIONS, plural } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';
import { accessTable } from './access-table.js';
import { evidenceExportButton } from './evidence-export.js';

/** Rows per page the user can choose; the API allows up to 500. */
const PAGE_SIZES = ['10', '50', '100', '500'];
const DEFAULT_PAGE_SIZE = '50';
const FIELDS = ['patient', 'user', 'from', 'to', 'action', 'workstation', 'limit'] as const;

/** A `datetime-local` value (the browser's local time) as epoch ms, or undefined. */
function localMs(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** The API's filters of the search in the URL (without paging). */
function apiFilters(q: URLSearchParams): Record<string, string | number | undefined> {
  return {
    patient: q.get('patient') ?? undefined,
    user: q.get('user') ?? undefined,
    from: localMs(q.get('from')),
    to: localMs(q.get('to')),
    action: q.get('action') ?? undefined,
    workstation: q.get('workstation') ?? undefined,
  };
}

function searchForm(ctx: PageContext): HTMLFormElement {
  const q = ctx.query;
  const input = (name: string, attrs: Record<string, string> = {}) =>
    h('input', { name, value: q.get(name) ?? '', ...attrs });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Search accesses' },
    field('Patient id', input('patient')),
    field('Staff member (user id)', input('user')),
    field('From', input('from', { type: 'datetime-local' })),
    field('Until', input('to', { type: 'datetime-local' })),
    field(
      'Action',
      select('action', [['', 'Any action'], ...ACTIONS.map((a) => [a, a] as const)], q.get('action') ?? ''),
    ),
    field('Workstation', input('workstation')),
    field(
      'Rows per page',
      select(
        'limit',
        PAGE_SIZES.map((n) => [n, n] as const),
        q.get('limit') ?? DEFAULT_PAGE_SIZE,
      ),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Search')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next: Record<string, string> = {};
    for (const name of FIELDS) {
      const value = data.get(name);
      if (typeof value === 'string' && value.trim() !== '') next[name] = value.trim();
    }
    next.run = String(Date.now());
    ctx.navigate('/search', next);
  });
  return form;
}

async function render(root: HTMLElement, ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const results = h('div', { class: 'results' });
  root.append(
    h('h1', {}, 'Search accesses'),
    h(
      'p',
      { class: 'muted' },
      'Find every access to a patient’s record, or everything a staff member opened. Each search is itself written to the audit log.',
    ),
    searchForm(ctx),
    results,
  );
  if (!q.has('patient') && !q.has('user')) {
    results.append(notice('info', 'Enter a patient id or a staff member’s user id, then press Search.'));
    return;
  }
  results.append(notice('info', 'Searching…'));
  const pageNo = Math.max(1, Number(q.get('page') ?? 1) || 1);
  const filters = apiFilters(q);
  const page = await get<SearchPage>(tenantPath(ctx.tenant, '/accesses'), {
    ...filters,
    limit: PAGE_SIZES.includes(q.get('limit') ?? '') ? q.get('limit') : DEFAULT_PAGE_SIZE,
    cursor: q.get('cursor'),
  });
  const csvHref = tenantPath(ctx.tenant, '/accesses.csv') + queryString(filters);
  const pager = h(
    'div',
    { class: 'pager' },
    `Page ${pageNo}: ${plural(page.items.length, 'access', 'accesses')}${page.next !== null ? ' (more on the next page)' : ''}`,
  );
  if (pageNo > 1) {
    const prev = h('button', { type: 'button' }, 'Previous page');
    prev.addEventListener('click', () => history.back());
    pager.append(prev);
  }
  if (page.next !== null) {
    const cursor = page.next;
    const next = h('button', { type: 'button' }, 'Next page');
    next.addEventListener('click', () => {
      const params: Record<string, string> = {};
      for (const name of [...FIELDS, 'run']) {
        const value = q.get(name);
        if (value !== null) params[name] = value;
      }
      ctx.navigate('/search', { ...params, cursor, page: String(pageNo + 1) });
    });
    pager.append(next);
  }
  replace(
    results,
    accessTable(
      page.items,
      pageNo > 1
        ? 'No more accesses.'
        : 'No accesses found. Check the id, or widen the time window (leave From and Until empty to search everything).',
    ),
    pager,
    page.items.length > 0
      ? h(
          'p',
          {},
          h('a', { href: csvHref, download: 'accesses.csv', class: 'csv' }, 'Download all matching accesses (CSV)'),
        )
      : null,
    // The accesses on this page, with their ledger proofs (search and evidence export admit the same roles).
    page.items.length > 0
      ? evidenceExportButton(
          ctx.tenant,
          page.items.map((row) => row.eventId),
        )
      : null,
  );
}

export const searchPage: Page = { title: 'Search accesses', allowed: CAN.search, render };
