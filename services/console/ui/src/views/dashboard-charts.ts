import type { ChartConfig, ChartConstructor } from '../chart-loader.js';
import type { DashboardData } from '../case-api-types.js';
import { h } from '../dom.js';
import { ruleLabel, SEVERITY_LABELS } from '../format.js';

/**
 * The dashboard's charts, each a canvas with a caption that says the same in words (for screen
 * readers and for print, where a canvas may be blank). Chart.js draws them without animation, so
 * a chart is complete as soon as it is built.
 */

const COLORS = {
  events: '#1f5fbf',
  failures: '#b3261e',
  bars: '#4a7fd4',
  severity: { low: '#8fb3e8', medium: '#e0a21b', high: '#d9622b', critical: '#b3261e' } as Record<string, string>,
  ages: ['#8fb3e8', '#e0a21b', '#d9622b', '#b3261e'],
};

const HOUR = 3_600_000;
const DAY = 86_400_000;
const DAY_LABEL = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const HOUR_LABEL = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });

const BASE_OPTIONS = {
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
};

export interface ChartBox {
  element: HTMLElement;
  draw(Chart: ChartConstructor): void;
}

function chartBox(name: string, title: string, caption: string, config: ChartConfig): ChartBox {
  const canvas = h('canvas', { role: 'img', 'aria-label': `${title}: ${caption}` });
  const element = h(
    'figure',
    { class: 'chart', 'data-chart': name },
    h('figcaption', {}, h('strong', {}, title), h('span', { class: 'muted' }, caption)),
    h('div', { class: 'chart-canvas' }, canvas),
  );
  return { element, draw: (Chart) => void new Chart(canvas, config) };
}

const integerAxis = { beginAtZero: true, ticks: { precision: 0 } };

/** Events and failed accesses per hour or day, every bucket of the period (zero when empty). */
export function accessVolumeChart(d: DashboardData): ChartBox {
  const { bucket, from, to, buckets } = d.volume;
  const width = bucket === 'hour' ? HOUR : DAY;
  const byStart = new Map(buckets.map((b) => [b.start, b]));
  const labels: string[] = [];
  const events: number[] = [];
  const failures: number[] = [];
  for (let t = from; t < to; t += width) {
    labels.push(bucket === 'hour' ? HOUR_LABEL.format(t) : DAY_LABEL.format(t));
    events.push(byStart.get(t)?.events ?? 0);
    failures.push(byStart.get(t)?.failures ?? 0);
  }
  const total = events.reduce((a, b) => a + b, 0);
  const failed = failures.reduce((a, b) => a + b, 0);
  const per = bucket === 'hour' ? 'per hour' : 'per day (UTC days)';
  return chartBox(
    'volume',
    'Accesses to patient records',
    `${total.toLocaleString()} events, ${failed.toLocaleString()} failed, in the last ${d.days} days, ${per}`,
    {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'Events', data: events, borderColor: COLORS.events, backgroundColor: COLORS.events, tension: 0.2 },
          {
            label: 'Failed',
            data: failures,
            borderColor: COLORS.failures,
            backgroundColor: COLORS.failures,
            tension: 0.2,
          },
        ],
      },
      options: { ...BASE_OPTIONS, scales: { y: integerAxis } },
    },
  );
}

/** Open alerts per kind, most first. */
export function alertsByRuleChart(d: DashboardData): ChartBox {
  const rows = Object.entries(d.alerts.byRule).sort((a, b) => b[1] - a[1]);
  return chartBox(
    'by-rule',
    'Open alerts by kind',
    rows.length === 0 ? 'No open alerts' : rows.map(([r, n]) => `${ruleLabel(r)}: ${n}`).join('; '),
    {
      type: 'bar',
      data: {
        labels: rows.map(([r]) => ruleLabel(r)),
        datasets: [{ label: 'Open alerts', data: rows.map(([, n]) => n), backgroundColor: COLORS.bars }],
      },
      options: { ...BASE_OPTIONS, indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: integerAxis } },
    },
  );
}

/** Open alerts per severity. */
export function alertsBySeverityChart(d: DashboardData): ChartBox {
  const rows = Object.keys(SEVERITY_LABELS).map((s) => [s, d.alerts.bySeverity[s as 'low'] ?? 0] as const);
  return chartBox(
    'by-severity',
    'Open alerts by severity',
    rows.map(([s, n]) => `${SEVERITY_LABELS[s]}: ${n}`).join('; '),
    {
      type: 'doughnut',
      data: {
        labels: rows.map(([s]) => SEVERITY_LABELS[s] ?? s),
        datasets: [
          {
            label: 'Open alerts',
            data: rows.map(([, n]) => n),
            backgroundColor: rows.map(([s]) => COLORS.severity[s] ?? COLORS.bars),
          },
        ],
      },
      options: { ...BASE_OPTIONS, plugins: { legend: { position: 'right' } } },
    },
  );
}

/** How long open alerts have waited for a decision. */
export function backlogChart(d: DashboardData): ChartBox {
  const { backlog } = d.alerts;
  const bins = [
    ['Under 1 day', backlog.under1d],
    ['1–7 days', backlog.d1to7],
    ['7–30 days', backlog.d7to30],
    ['Over 30 days', backlog.over30],
  ] as const;
  return chartBox('backlog', 'Review backlog by age', bins.map(([l, n]) => `${l}: ${n}`).join('; '), {
    type: 'bar',
    data: {
      labels: bins.map(([l]) => l),
      datasets: [{ label: 'Open alerts', data: bins.map(([, n]) => n), backgroundColor: COLORS.ages }],
    },
    options: { ...BASE_OPTIONS, plugins: { legend: { display: false } }, scales: { y: integerAxis } },
  });
}
