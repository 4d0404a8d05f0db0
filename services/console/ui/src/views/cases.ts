import { get, tenantPath } from '../api.js';
import type { CaseSummary } from '../case-api-types.js';
import { field, h, notice, replace, select, table } from '../dom.js';
import { dateTime, day } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';
import { clockBadge } from './breach-clock.js';
import { CASE_STATUS_LABELS } from './case-forms.js';
import { conclusionLabel } from './risk-assessment.js';

/**
 * The tenant's investigation cases (#/cases), newest first, each with its breach clock. Opens on
 * the cases still being worked (open or investigating); `?status=` picks another set.
 */

const FILTERS: readonly (readonly [string, string, string[] | undefined])[] = [
  ['active', 'Open or investigating', ['open', 'investigating']],
  ['open', 'Open', ['open']],
  ['investigating', 'Investigating', ['investigating']],
  ['closed', 'Closed', ['closed']],
  ['any', 'All cases', undefined],
];

async function render(root: HTMLElement, ctx: PageContext): Promise<void> {
  const chosen = FILTERS.find(([v]) => v === ctx.query.get('status')) ?? FILTERS[0]!;
  const filter = select(
    'status',
    FILTERS.map(([v, label]) => [v, label] as const),
    chosen[0],
  );
  filter.addEventListener('change', () =>
    ctx.navigate('/cases', { status: filter.value === 'active' ? undefined : filter.value }),
  );
  const results = h('div', { class: 'results' }, notice('info', 'Loading cases…'));
  root.append(
    h('h1', {}, 'Cases'),
    h(
      'p',
      { class: 'muted' },
      'A case gathers alerts that need an investigation. Its clock counts the 60 days HIPAA allows for telling the people affected, from the day the incident was discovered.',
    ),
    h('form', { class: 'filters', 'aria-label': 'Filter cases' }, field('Status', filter)),
    results,
  );
  const { items } = await get<{ items: CaseSummary[] }>(tenantPath(ctx.tenant, '/cases'), { status: chosen[2] });
  if (items.length === 0) {
    results.replaceChildren(
      notice(
        'info',
        chosen[0] === 'any'
          ? 'No cases yet. Open one from an alert: on the alert page, or select alerts in the list.'
          : 'No cases with this status. Choose "All cases" to see the others.',
      ),
    );
    return;
  }
  const list = table(
    ['Case', 'Status', 'Opened', 'Alerts', 'Discovered', 'Notify individuals by', 'Assessment'],
    items,
    (c) => [
      h('a', { href: `#/cases/${c.caseId}`, class: 'open-case' }, c.title),
      h(
        'span',
        { class: `case-status case-status-${c.status}`, 'data-case-status': c.status },
        CASE_STATUS_LABELS[c.status],
      ),
      `${dateTime(c.openedAt)} by ${c.openedBy}`,
      c.alertCount,
      day(c.discoveredOn),
      c.status === 'closed' ? h('span', { class: 'muted' }, 'Case closed') : clockBadge(c.breachClock),
      c.conclusion === undefined ? h('span', { class: 'muted' }, 'Not assessed') : conclusionLabel(c.conclusion),
    ],
  );
  list.classList.add('cases');
  replace(results, list);
}

export const casesPage: Page = { title: 'Cases', allowed: CAN.readAlerts, render };
