import { get, post, tenantPath } from '../api.js';
import type { AlertPage } from '../api-types.js';
import { field, h, notice, select, table, replace } from '../dom.js';
import { day, plural, ruleLabel, RULE_IDS, SEVERITY_LABELS, STATUS_LABELS, statusLabel } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';
import { decisionForm } from './decision-form.js';
import { openCaseForm } from './open-case-form.js';

/** Alerts per page. */
const PAGE_SIZE = 50;
/** The list opens on the alerts that still need a decision; `any` in the URL shows every status. */
const DEFAULT_STATUS = 'open';
const FILTERS = ['status', 'rule', 'minSeverity', 'user', 'patient', 'from', 'to', 'sort'] as const;

function filterForm(ctx: PageContext): HTMLFormElement {
  const q = ctx.query;
  const input = (name: string, attrs: Record<string, string> = {}) =>
    h('input', { name, value: q.get(name) ?? '', ...attrs });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter alerts' },
    field(
      'Status',
      select('status', [['any', 'All statuses'], ...Object.entries(STATUS_LABELS)], q.get('status') ?? DEFAULT_STATUS),
    ),
    field(
      'Kind of alert',
      select('rule', [['', 'All kinds'], ...RULE_IDS.map((r) => [r, ruleLabel(r)] as const)], q.get('rule') ?? ''),
    ),
    field(
      'Severity',
      select(
        'minSeverity',
        [['', 'Any'], ...Object.entries(SEVERITY_LABELS).map(([v, l]) => [v, `${l} or higher`] as const)],
        q.get('minSeverity') ?? '',
      ),
    ),
    field('Staff member (user id)', input('user')),
    field('Patient id', input('patient')),
    field('From day', input('from', { type: 'date' })),
    field('To day', input('to', { type: 'date' })),
    field(
      'Order',
      select(
        'sort',
        [
          ['risk', 'Highest risk first'],
          ['day', 'Newest first'],
        ],
        q.get('sort') ?? 'risk',
      ),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show alerts')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next: Record<string, string> = {};
    for (const name of FILTERS) {
      const value = data.get(name);
      if (typeof value === 'string' && value.trim() !== '') next[name] = value.trim();
    }
    ctx.navigate('/alerts', next);
  });
  return form;
}

async function render(root: HTMLElement, ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0);
  const status = q.get('status') ?? DEFAULT_STATUS;
  const canDecide = CAN.decide(ctx.me.role);
  const results = h('div', { class: 'results' }, notice('info', 'Loading alerts…'));
  root.append(
    h('h1', {}, 'Alerts'),
    h(
      'p',
      { class: 'muted' },
      'Each alert is an access to a patient record that looked unusual. Open one to see what happened and record whether it was appropriate.',
    ),
    filterForm(ctx),
    results,
  );

  const page = await get<AlertPage>(tenantPath(ctx.tenant, '/alerts'), {
    status: status === 'any' ? undefined : status,
    rule: q.get('rule'),
    minSeverity: q.get('minSeverity'),
    user: q.get('user'),
    patient: q.get('patient'),
    from: q.get('from'),
    to: q.get('to'),
    sort: q.get('sort'),
    limit: PAGE_SIZE,
    offset,
  });
  if (page.items.length === 0) {
    results.replaceChildren(
      notice(
        'info',
        status === 'open' && offset === 0
          ? 'No alerts need review with these filters. Choose "All statuses" to see decided alerts, or widen the filters. New alerts appear here as they are found.'
          : 'No alerts match these filters. Try "All statuses", another kind of alert or a wider range of days.',
      ),
    );
    return;
  }

  const selected = new Set<string>();
  const boxes: HTMLInputElement[] = [];
  const bulk = canDecide
    ? decisionForm({
        legend: 'Decide the selected alerts together',
        submitLabel: 'Select alerts below first',
        onSubmit: async (decision, reason) => {
          const ids = [...selected];
          await post(tenantPath(ctx.tenant, '/alerts/decisions'), { alertIds: ids, decision, reason });
          done.replaceChildren(notice('ok', `Recorded "${statusLabel(decision)}" for ${plural(ids.length, 'alert')}.`));
          root.replaceChildren();
          await render(root, ctx);
          root.prepend(done);
        },
      })
    : undefined;
  const done = h('div', { class: 'done' });
  const openCase = canDecide ? openCaseForm({ ctx, alertIds: () => [...selected] }) : undefined;
  const updateBulk = () => {
    openCase?.setCount(selected.size);
    bulk?.setLabel(
      selected.size === 0 ? 'Select alerts below first' : `Record decision for ${plural(selected.size, 'alert')}`,
      selected.size > 0,
    );
  };
  updateBulk();

  const selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all alerts on this page' });
  selectAll.addEventListener('change', () => {
    for (const box of boxes) {
      box.checked = selectAll.checked;
      box.dispatchEvent(new Event('change'));
    }
  });
  const headers = ['Risk', 'Severity', 'What happened', 'Staff member', 'Patient', 'Day', 'Status', ''];
  const list = table(canDecide ? ['', ...headers] : headers, page.items, ({ alert, status: s }) => {
    const box = h('input', { type: 'checkbox', name: 'alert', value: alert.alertId, 'aria-label': 'Select alert' });
    box.addEventListener('change', () => {
      if (box.checked) selected.add(alert.alertId);
      else selected.delete(alert.alertId);
      updateBulk();
    });
    boxes.push(box);
    const cells = [
      h('span', { class: 'risk' }, alert.riskScore),
      h('span', { class: `severity severity-${alert.severity}` }, SEVERITY_LABELS[alert.severity] ?? alert.severity),
      h('div', {}, h('strong', {}, ruleLabel(alert.ruleId)), h('div', { class: 'explanation' }, alert.explanation)),
      alert.userId,
      alert.patientId ?? '(many)',
      day(alert.day),
      h('span', { class: `status status-${s}`, 'data-alert-status': s }, statusLabel(s)),
      h('a', { href: `#/alerts/${alert.alertId}`, class: 'open-alert' }, 'Review'),
    ];
    return canDecide ? [box, ...cells] : cells;
  });
  if (canDecide) list.querySelector('thead th')?.append(selectAll);
  list.classList.add('alerts');

  const last = offset + page.items.length;
  const pager = h('div', { class: 'pager' }, `Showing ${offset + 1}–${last} of ${plural(page.total, 'alert')}`);
  const goto = (to: number) => {
    const next: Record<string, string> = {};
    for (const name of FILTERS) {
      const value = q.get(name);
      if (value !== null) next[name] = value;
    }
    if (to > 0) next.offset = String(to);
    ctx.navigate('/alerts', next);
  };
  if (offset > 0) {
    const prev = h('button', { type: 'button' }, 'Previous page');
    prev.addEventListener('click', () => goto(Math.max(0, offset - PAGE_SIZE)));
    pager.append(prev);
  }
  if (last < page.total) {
    const next = h('button', { type: 'button' }, 'Next page');
    next.addEventListener('click', () => goto(last));
    pager.append(next);
  }
  replace(results, bulk?.form, openCase?.element, list, pager);
}

export const alertsPage: Page = { title: 'Alerts', allowed: CAN.readAlerts, render };
