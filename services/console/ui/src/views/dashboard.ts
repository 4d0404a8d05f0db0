import { ApiError, get, tenantPath } from '../api.js';
import type { DashboardData, LedgerStatus } from '../case-api-types.js';
import { loadChartJs } from '../chart-loader.js';
import { field, h, notice, replace, select, type Child } from '../dom.js';
import { day, plural } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { CAN } from '../session.js';
import { daysText } from './breach-clock.js';
import { accessVolumeChart, alertsByRuleChart, alertsBySeverityChart, backlogChart } from './dashboard-charts.js';
import { ledgerBadge, ledgerStatusPanel } from './ledger-status-panel.js';
import { sentence } from './login.js';

/**
 * The dashboard (#/dashboard, every role, the landing page): how much the records were
 * accessed, the alert backlog, the cases and their nearest notification deadline, and whether
 * the ledger verifies. Counts only, no patient or staff names, so auditors see it too.
 */

const PERIODS: readonly (readonly [string, string])[] = [
  ['2', 'Last 2 days (hourly)'],
  ['7', 'Last 7 days'],
  ['14', 'Last 14 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
];
const DEFAULT_DAYS = '14';

/** "5 hours", "3 days": how long ago `at` was. */
function age(at: number, now = Date.now()): string {
  const hours = Math.max(0, Math.floor((now - at) / 3_600_000));
  return hours < 48 ? plural(hours, 'hour') : plural(Math.floor(hours / 24), 'day');
}

function card(name: string, label: string, value: Child, detail?: Child, href?: string): HTMLElement {
  const body = [
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value),
    detail ? h('div', { class: 'card-detail' }, detail) : null,
  ];
  return href === undefined
    ? h('div', { class: 'card', 'data-card': name }, ...body)
    : h('a', { class: 'card', 'data-card': name, href }, ...body);
}

function cards(ctx: PageContext, d: DashboardData, ledgerOk: boolean | undefined): HTMLElement {
  const reader = CAN.readAlerts(ctx.me.role);
  const next = d.cases.nextDeadline;
  const nextUrgency =
    next === undefined ? 'none' : next.daysRemaining < 0 ? 'overdue' : next.daysRemaining <= 14 ? 'soon' : 'ok';
  return h(
    'div',
    { class: 'cards' },
    card(
      'open-alerts',
      'Open alerts',
      d.alerts.open.toLocaleString(),
      'waiting for a decision',
      reader ? '#/alerts' : undefined,
    ),
    card(
      'oldest-alert',
      'Oldest open alert',
      d.alerts.oldestOpenFirstEventAt === undefined ? '—' : age(d.alerts.oldestOpenFirstEventAt),
      d.alerts.oldestOpenFirstEventAt === undefined ? 'nothing waiting' : 'since its first access',
    ),
    card(
      'cases',
      'Cases being worked',
      (d.cases.open + d.cases.investigating).toLocaleString(),
      `${d.cases.open} open, ${d.cases.investigating} investigating, ${d.cases.closed} closed`,
      reader ? '#/cases' : undefined,
    ),
    h(
      'div',
      { class: `card-wrap clock-${nextUrgency}` },
      card(
        'deadline',
        'Nearest notification deadline',
        next === undefined ? 'None' : day(next.deadline),
        next === undefined
          ? 'no open case with a running clock'
          : daysText({ deadline: next.deadline, daysRemaining: next.daysRemaining, overdue: next.daysRemaining < 0 }),
        next !== undefined && reader ? `#/cases/${next.caseId}` : undefined,
      ),
    ),
    card(
      'ledger',
      'Ledger verification',
      ledgerOk === undefined ? 'Unknown' : ledgerBadge(ledgerOk),
      'signed checkpoints and tiles',
    ),
  );
}

async function render(root: HTMLElement, ctx: PageContext): Promise<void> {
  const days = PERIODS.some(([v]) => v === ctx.query.get('days')) ? ctx.query.get('days')! : DEFAULT_DAYS;
  const period = select('days', PERIODS, days);
  period.addEventListener('change', () =>
    ctx.navigate('/dashboard', { days: period.value === DEFAULT_DAYS ? undefined : period.value }),
  );
  const body = h('div', { class: 'dashboard' }, notice('info', 'Loading the dashboard…'));
  root.append(
    h(
      'div',
      { class: 'page-heading' },
      h('h1', {}, 'Dashboard'),
      h('form', { class: 'filters inline' }, field('Period', period)),
    ),
    body,
  );

  const [data, ledger] = await Promise.all([
    get<DashboardData>(tenantPath(ctx.tenant, '/dashboard'), { days }),
    get<LedgerStatus>(tenantPath(ctx.tenant, '/ledger-status')).catch((error: unknown) => error),
  ]);
  const ledgerPanel = ledger instanceof Error ? undefined : ledgerStatusPanel(ledger as LedgerStatus);
  const charts = [accessVolumeChart(data), alertsByRuleChart(data), alertsBySeverityChart(data), backlogChart(data)];
  const chartArea = h('div', { class: 'charts' }, ...charts.map((c) => c.element));
  replace(
    body,
    cards(ctx, data, ledgerPanel?.ok),
    chartArea,
    h('h2', {}, 'Ledger verification'),
    ledgerPanel?.element ??
      notice('error', ledger instanceof ApiError ? sentence(ledger.message) : 'The ledger status could not be read.'),
  );
  try {
    const Chart = await loadChartJs();
    if (!root.isConnected) return; // the user moved on
    for (const c of charts) c.draw(Chart);
  } catch {
    chartArea.prepend(
      notice('error', 'The charts could not be drawn (Chart.js did not load). The numbers are below each title.'),
    );
  }
}

export const dashboardPage: Page = { title: 'Dashboard', allowed: CAN.any, render };
